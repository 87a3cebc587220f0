/*
 * summary_int.h - private to node/: a search hit's summary object, the
 * fields of resource.json the catalogue answer shows.
 */
#ifndef NODE_SUMMARY_INT_H
#define NODE_SUMMARY_INT_H

#include <jansson.h>

#include "content/resource.h"
#include "platform/buf.h"

/* {"id","title","type","language","cached","url"} and those of
 * description, subject, grades, edition, volume, unit, local that r has;
 * new reference, NULL when a required field is missing. */
json_t *node_summary_json(const content_resource *r);

/* Append to b the bytes json_dumps(node_summary_json(r), JSON_COMPACT)
 * writes, spliced from json = json_dumps(r->meta, JSON_COMPACT) (the
 * catalogue's stored text) without parsing it into objects.  1 when done,
 * 0 when json is not plain enough (the caller uses node_summary_json),
 * -1 when b is full.  Safe on any NUL-terminated bytes. */
int node_summary_splice(cs_buf *b, const char *json, int cached);

#endif
