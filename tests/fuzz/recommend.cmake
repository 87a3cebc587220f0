# node/recommend_eval.c parsers on hostile bytes: interaction and item CSVs,
# ASSISTments files.
cs_fuzz_target(interactions cs_node)
