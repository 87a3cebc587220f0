# Browser tests: headless Chromium (Debian's) driven by playwright-core.
add_test(NAME browser.ui COMMAND bash ${PROJECT_SOURCE_DIR}/tests/browser/run.sh $<TARGET_FILE:cistern>
                                 ${PROJECT_SOURCE_DIR})
set_tests_properties(browser.ui PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
