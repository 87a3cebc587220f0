cs_unit_test(test_schedule cs_node)
