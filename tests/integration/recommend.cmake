# `cistern recommend eval / audit / convert-assist` (and assist2009 when the
# shared corpora are present).
cs_integration_test(recommend)
