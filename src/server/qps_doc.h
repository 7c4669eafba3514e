/* qps_doc.h - the ServiceRequest bodies of the QPS resources around the launch (tags,
 * assets, activation keys) read into one tree, and ServiceResponse documents with
 * records written from one tree, in XML or JSON alike. */
#ifndef ODSCAN_QPS_DOC_H
#define ODSCAN_QPS_DOC_H

#include "buf.h"
#include "qps.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* qps_doc_parse reads a body (XML or JSON, told by the first non-blank byte; empty
 * means {}) into the content of its ServiceRequest as a JSON tree; caller
 * json_decref's *out. XML becomes: an element with child elements an object (a name
 * repeated an array), attributes members, the text of an element with attributes the
 * member "value", an element with text only a string. DOCTYPE/entities, nesting past
 * QPS_XML_DEPTH_MAX / QPS_JSON_DEPTH_MAX and bodies past QPS_BODY_MAX are refused.
 * Returns 0, or with *err set: ODS_E_PARSE (400), ODS_E_TOOBIG (413), ODS_E_NOMEM (500). */
int qps_doc_parse(const char *body, size_t len, json_t **out, struct qps_error *err);

/* qps_doc_get walks a dotted path ("data.Tag.name") from node: an object step takes
 * the member, an array is entered at its first element that has the member (the QPS
 * JSON shape "data": [{"Tag": {...}}]). Borrowed reference, or NULL. */
json_t *qps_doc_get(json_t *node, const char *path);
/* qps_doc_items collects the values named `name` under node (an object with that
 * member, one value or an array of them; or an array of such objects) into a new array.
 * New reference; NULL only without memory. */
json_t *qps_doc_items(json_t *node, const char *name);
/* qps_doc_int reads an integer given as a JSON number or decimal text. 0 or ODS_E_PARSE. */
int qps_doc_int(const json_t *v, int64_t *out);
/* qps_doc_bool reads true/false/1/0 given as JSON or text. 0 or ODS_E_PARSE. */
int qps_doc_bool(const json_t *v, bool *out);
/* qps_doc_str returns the text of a JSON string (or NULL). */
const char *qps_doc_str(const json_t *v);

/* qps_doc_render appends a SUCCESS ServiceResponse carrying the records of `items`, a
 * JSON array of one-key objects ({"Tag": {...}}): in XML each key becomes an element
 * under <data>, objects nested elements, arrays of one-key objects repeated elements;
 * in JSON the QPS shape {"ServiceResponse": {"responseCode", "count", "data": items}}.
 * has_more adds hasMoreRecords. xsd is the schema path after base_url. Returns 0 or a
 * buf error (*out left as it was). */
int qps_doc_render(struct buf *out, enum qps_format fmt, const char *base_url,
    const char *xsd, json_t *items, bool has_more);

#endif
