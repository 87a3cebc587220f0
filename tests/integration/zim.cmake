# Kiwix ZIM archives (hub add-zim).  cistern-zimtool is libzim's own reading
# and writing (tests/tools/zimtool.cpp), which the tests compare against.
add_executable(cistern-zimtool tools/zimtool.cpp)
target_link_libraries(cistern-zimtool PRIVATE PkgConfig::LIBZIM)
set_target_properties(cistern-zimtool PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/tools)
# zimgen: an archive made by the test itself (always runs); zim: every archive
# of ../shared/corpora/zim (skips when the corpora are absent).
cs_integration_test(zimgen)
cs_integration_test(zim)
