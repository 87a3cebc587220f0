cs_unit_test(test_reader cs_content)
