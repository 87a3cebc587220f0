# The catalogue generator (tools/gencat.c), end to end.
cs_integration_test(gencat)
