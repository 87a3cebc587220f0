# sync/client.c against a hostile hub or mirror: a server in the fuzzer's
# process serves a repository made from samples/ and turns one kind of
# answer hostile per input (tests/fuzz/fuzz_client.c).
cs_fuzz_target(client cs_node)
foreach(t fuzz_client fuzz_client_lf)
  if(TARGET ${t})
    target_compile_definitions(${t} PRIVATE CS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  endif()
endforeach()
