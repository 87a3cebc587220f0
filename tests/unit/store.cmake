# content/object.c and content/store.c
cs_unit_test(test_object cs_content)
cs_unit_test(test_store cs_content)
