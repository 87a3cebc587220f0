# platform/ and sync/: errors, buffers, config, files, crypto, time;
# signed metadata and catalogue files.
cs_unit_test(test_platform cs_platform)
cs_unit_test(test_meta cs_sync)
cs_unit_test(test_catfile cs_sync)
