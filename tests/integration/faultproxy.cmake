# Self-test of tests/tools/cistern-faultproxy (the bad-link proxy).
cs_integration_test(faultproxy)
