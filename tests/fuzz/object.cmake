# content/object.c decoders on hostile bytes
cs_fuzz_target(object cs_content)
# The titles file a ZIM resource carries (parsed on the node)
cs_fuzz_target(titles cs_content)
