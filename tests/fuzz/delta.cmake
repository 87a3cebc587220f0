# sync/delta.c: zstd patch-from deltas from a hub or mirror, hostile and real.
cs_fuzz_target(delta cs_sync)
