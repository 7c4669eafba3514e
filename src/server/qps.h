/* qps.h - the QPS wire format: parsing what clients send to the launch endpoint and
 * rendering ServiceResponse documents (XML or JSON) that validate against
 * data/xsd/agentasset.xsd. Pure functions: no I/O, no globals (qps_init/qps_cleanup
 * aside, which set libxml2 up once per process). */
#ifndef ODSCAN_QPS_H
#define ODSCAN_QPS_H

#include "buf.h"
#include "scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Named limits on what a client sends. */
#define QPS_BODY_MAX        (64 * 1024)  /* request body bytes */
#define QPS_XML_DEPTH_MAX   32           /* element nesting */
#define QPS_JSON_DEPTH_MAX  32           /* object/array nesting */
#define QPS_RESPONSE_MAX    (1024 * 1024)

enum qps_format { QPS_XML = 0, QPS_JSON };

/* Response codes and the HTTP status each travels with. */
#define QPS_CODE_TABLE(XX)                          \
    XX(SUCCESS,                 200)                \
    XX(INVALID_REQUEST,         400)                \
    XX(UNAUTHORIZED,            401)                \
    XX(OPERATION_NOT_PERMITTED, 403)                \
    XX(NOT_FOUND,               404)                \
    XX(RATE_LIMIT_EXCEEDED,     409)                \
    XX(INTERNAL_ERROR,          500)                \
    XX(SERVICE_UNAVAILABLE,     503)

enum qps_code {
#define XX(name, status) QPS_##name,
    QPS_CODE_TABLE(XX)
#undef XX
};

/* An error to send back: HTTP status, QPS code, what was wrong, what to do. */
struct qps_error {
    int           http_status;   /* may differ from the code's default, e.g. 405, 413 */
    enum qps_code code;
    char          message[256];
    char          resolution[256];
};

/* qps_code_name returns "INVALID_REQUEST" etc. */
const char *qps_code_name(enum qps_code code);
/* qps_code_status returns the default HTTP status of a code. */
int qps_code_status(enum qps_code code);
/* qps_error_set fills *e. fmt is a printf format for the message; resolution is plain
 * text (not a format, so a '%' in it is safe). Both are truncated to fit on a UTF-8
 * character boundary, and bytes that are not valid UTF-8 or are control characters
 * become '?', so whatever a caller quotes from a client renders as well-formed XML and
 * JSON. resolution may be NULL (empty). */
void qps_error_set(struct qps_error *e, int http_status, enum qps_code code,
    const char *resolution, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* qps_init prepares libxml2 for use from many threads (xmlInitParser) and silences
 * its default error output; call it once at start-up, before any thread calls
 * qps_parse_empty_request. qps_cleanup undoes it at exit, after every such thread
 * has stopped. */
void qps_init(void);
void qps_cleanup(void);

/* qps_format_from_accept picks JSON when the Accept header asks for application/json
 * (before any XML type), XML otherwise (also when accept is NULL). */
enum qps_format qps_format_from_accept(const char *accept);

/* One query argument as the HTTP layer saw it, already percent-decoded. */
struct qps_arg {
    const char *key;
    const char *value;   /* NULL for a key without '=' */
};

/* What a single-asset launch asks for. */
struct launch_request {
    int64_t                      asset_id;
    const struct scan_type_info *scan;
    bool                         override_cpu;
};

/* qps_parse_launch validates the path's asset id and the query arguments of
 * POST /qps/rest/1.0/ods/ca/agentasset/<id>. Parameter names match case-insensitively;
 * `scan` must appear exactly once with one known value; `overrideConfigCpu` is optional
 * (true/false/1/0, any case); other parameters are ignored. Returns 0 with *out filled,
 * or ODS_E_INVAL with *err filled (400 INVALID_REQUEST). */
int qps_parse_launch(const char *asset_id, const struct qps_arg *args, size_t nargs,
    struct launch_request *out, struct qps_error *err);

/* qps_parse_launch_args is qps_parse_launch without the path's asset id (launch by
 * filter); out->asset_id is left 0. */
int qps_parse_launch_args(const struct qps_arg *args, size_t nargs, struct launch_request *out,
    struct qps_error *err);

/* qps_parse_empty_request checks a launch body: empty (or only whitespace), an XML
 * <ServiceRequest/> with no child elements (XML declaration, BOM and whitespace
 * allowed; DOCTYPE and entities refused), or JSON {"ServiceRequest":{}}. The format is
 * told by the first non-blank byte, whatever the Content-Type. body may be NULL when
 * len is 0. Returns 0, or with *err filled: ODS_E_PARSE (400), ODS_E_TOOBIG when len
 * exceeds QPS_BODY_MAX (413 INVALID_REQUEST), ODS_E_NOMEM (500 INTERNAL_ERROR). */
int qps_parse_empty_request(const char *body, size_t len, struct qps_error *err);

/* A request body read under the rules of qps_parse_empty_request (no DOCTYPE or
 * entities, nesting limits, root ServiceRequest without a namespace). */
struct _xmlDoc;
struct json_t;
enum qps_body_kind { QPS_BODY_EMPTY = 0, QPS_BODY_XML, QPS_BODY_JSON };
struct qps_body {
    enum qps_body_kind kind;
    struct _xmlDoc    *xml;       /* XML: the document, its root is ServiceRequest */
    struct json_t     *json;      /* JSON: the whole document */
    struct json_t     *request;   /* JSON: the ServiceRequest object inside json */
};

/* qps_body_read parses a body (len bytes; the caller enforces the size limit) as XML or
 * JSON, told by the first non-blank byte. hint is the resolution given with a malformed
 * body (NULL: the launch's). Returns 0 with *out filled (free with qps_body_free), or
 * ODS_E_PARSE / ODS_E_NOMEM with *err filled. */
int qps_body_read(const char *body, size_t len, const char *hint, struct qps_body *out,
    struct qps_error *err);
/* qps_body_free releases what qps_body_read kept. NULL-safe. */
void qps_body_free(struct qps_body *b);

/* qps_render_launch appends a SUCCESS ServiceResponse with one SingleModuleResponse
 * naming `module` and the given asset ids (count = n; assetIds is written "[1,2,3]",
 * no spaces, a JSON string in the JSON form). base_url is the server's public URL
 * without a trailing '/', used in xsi:noNamespaceSchemaLocation (NULL: empty).
 * Returns 0 or a buf error; on error *out is left as it was. */
int qps_render_launch(struct buf *out, enum qps_format fmt, const char *base_url,
    const char *module, const int64_t *asset_ids, size_t n);

/* qps_render_tree appends a ServiceResponse whose members are those of the JSON object
 * response, in order: as JSON {"ServiceResponse": response}, or as XML with one element
 * per member, objects nested, an array member K written as <K> holding the members of
 * each of its objects (so "data":[{"HostAsset":{...}}] is <data><HostAsset>...), and
 * null members left out. The caller keeps its reference to response. Returns 0 or a
 * buf error (ODS_E_TOOBIG past out's maximum; *out is then left as it was). */
int qps_render_tree(struct buf *out, enum qps_format fmt, struct json_t *response);

/* qps_render_error appends an error ServiceResponse for *err (code, message,
 * resolution). Returns 0 or a buf error; on error *out is left as it was. */
int qps_render_error(struct buf *out, enum qps_format fmt, const char *base_url,
    const struct qps_error *err);

#endif
