# Self-test of tests/tools/cistern-faultproxy (the bad-link proxy).
# Deferred to the end of tests/: the lists here are included in sorted order
# and tests.cmake, which defines cs_integration_test, sorts after this file.
cmake_language(DEFER CALL cs_integration_test faultproxy)
