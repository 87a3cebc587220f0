# resource.json parsing/validation and search query building.
cs_fuzz_target(resource cs_content)
