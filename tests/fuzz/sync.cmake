# sync/ and platform/ parsers on hostile bytes: signed metadata, catalogue
# files, USB bundles and node.conf.
cs_fuzz_target(meta cs_sync)
cs_fuzz_target(catfile cs_sync)
cs_fuzz_target(bundle cs_sync)
cs_fuzz_target(conf cs_platform)
cs_fuzz_target(outbox cs_sync)
cs_fuzz_target(csvcat cs_sync)
cs_fuzz_target(manifest cs_sync)
# The hub's report store past the signature (fuzz_reports signs each input).
cs_fuzz_target(reports cs_sync)
