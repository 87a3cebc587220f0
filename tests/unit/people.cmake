# node/people.c: accounts, sessions, consent, outbox, privacy noise.
cs_unit_test(test_people cs_node)
