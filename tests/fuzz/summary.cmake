# The catalogue answer's summaries: spliced from the stored resource.json
# text, and built with jansson; the two must give the same bytes.
cs_fuzz_target(summary cs_node)
foreach(t fuzz_summary fuzz_summary_lf)
  if(TARGET ${t})
    target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/node)
  endif()
endforeach()
