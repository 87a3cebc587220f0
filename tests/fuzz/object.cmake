# content/object.c decoders on hostile bytes
cs_fuzz_target(object cs_content)
