# Accounts, roles, learner data (node/people.c, node/http_people.c) and the
# outbox to the hub (node/outbox.c, sync/outbox.c, sync/report.c).
cs_integration_test(people)
cs_integration_test(outbox)
cs_integration_test(recserve)
cs_integration_test(privilege)
cs_integration_test(fulldisk)
cs_integration_test(clock)
