# node/recommend.c and node/recommend_eval.c: the recommender and its
# offline evaluation.
cs_unit_test(test_recommend cs_node)
