# Integration tests: bash scripts that drive the real `cistern` binary.
function(cs_integration_test name)
  add_test(NAME integ.${name}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/${name}.sh $<TARGET_FILE:cistern>
                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(integ.${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endfunction()

cs_integration_test(roundtrip)
cs_integration_test(badsource)
cs_integration_test(tamper)
cs_integration_test(killimport)
cs_integration_test(calculus)
cs_integration_test(serve)
cs_integration_test(load)
cs_integration_test(sync)
cs_integration_test(rotation)
