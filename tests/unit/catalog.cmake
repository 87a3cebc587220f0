# content: resource model, catalogue and the cistern FTS5 tokenizer.
cs_unit_test(test_resource cs_content)
cs_unit_test(test_fts cs_content)
cs_unit_test(test_catalog cs_content)
