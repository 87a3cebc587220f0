# cistern-gencat: the synthetic catalogue generator used by bench/lan.sh.
# Deferred to the end of tests/: the lists here are included in sorted order
# and tests.cmake, which defines cs_integration_test, sorts after this file.
cmake_language(DEFER CALL cs_integration_test gencat)
