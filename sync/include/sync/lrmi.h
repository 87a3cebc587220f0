/*
 * lrmi.h - the catalogue as schema.org LearningResource JSON-LD (LRMI), for
 * exchange with other platforms (docs/lrmi.md).
 */
#ifndef SYNC_LRMI_H
#define SYNC_LRMI_H

#include <jansson.h>

#include "content/resource.h"

#define SYNC_LRMI_MAX_FILES 100 /* files listed per resource (hasPart) */

/* One resource as a LearningResource node; base is prepended to URLs
 * ("http://host:8080", or "" for URLs relative to the node).  New reference. */
json_t *sync_lrmi_resource(const content_resource *r, const char *base);

/* {"@context": "https://schema.org/", "@graph": graph}; graph is stolen. */
json_t *sync_lrmi_document(json_t *graph);

#endif
