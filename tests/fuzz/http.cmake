# The node's LAN server and the hub's server on hostile requests: both run
# inside the fuzzer on a fixture made from samples/ (tests/fuzz/fuzz_http.c).
cs_fuzz_target(http cs_node)
foreach(t fuzz_http fuzz_http_lf)
  if(TARGET ${t})
    target_compile_definitions(${t} PRIVATE CS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  endif()
endforeach()
set_tests_properties(fuzz.http PROPERTIES TIMEOUT 300)
