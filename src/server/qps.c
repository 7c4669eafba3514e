/* qps.c - the QPS wire format of the launch endpoint: strict parsing of the path, query
 * and body a client sends, and rendering of ServiceResponse documents in XML or JSON. */
#include "qps.h"
#include "err.h"
#include "util.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest piece of client input quoted back in an error message, so one long value
 * cannot crowd out the rest of the message. */
#define QPS_QUOTE_MAX 64

#define BULK_HINT "use POST /qps/rest/1.0/ods/ca/agentasset with <filters> to launch on several assets"
#define BODY_HINT "Send an empty body, <ServiceRequest></ServiceRequest> or {\"ServiceRequest\":{}}"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one.
 * Follows Unicode's table of well-formed sequences (no overlongs, no surrogates) and
 * also refuses U+FFFE/U+FFFF, which XML 1.0 does not allow. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    if (c == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
        return 0;
    return len;
}

/* Copies src into dst (size n >= 4) keeping valid UTF-8, turning invalid bytes and
 * control characters into '?'. When src does not fit, it ends in "..." and never
 * splits a character. Output bytes match input bytes one for one, which is what
 * makes the fit test on strlen(src) exact. */
static void
text_clean(char *dst, size_t n, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t left = strlen(src);
    bool cut = left > n - 1;
    size_t limit = cut ? n - 4 : n - 1;
    size_t used = 0;

    while (left > 0) {
        size_t len = utf8_seq_len(s, left);
        size_t take = len == 0 ? 1 : len;
        if (used + take > limit)
            break;
        if (len == 0 || s[0] < 0x20 || s[0] == 0x7f)
            dst[used++] = '?';
        else {
            memcpy(dst + used, s, len);
            used += len;
        }
        s += take;
        left -= take;
    }
    if (cut) {
        memcpy(dst + used, "...", 3);
        used += 3;
    }
    dst[used] = '\0';
}

/* Copies at most QPS_QUOTE_MAX bytes of client input into dst for quoting in a
 * message; text_clean in qps_error_set makes the result safe to render. */
static const char *
quoted(char dst[QPS_QUOTE_MAX + 4], const char *s)
{
    size_t len = s == NULL ? 0 : strlen(s);

    if (len <= QPS_QUOTE_MAX) {
        memcpy(dst, s == NULL ? "" : s, len + 1);
        return dst;
    }
    len = QPS_QUOTE_MAX;
    while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
        len--;
    memcpy(dst, s, len);
    memcpy(dst + len, "...", 4);
    return dst;
}

void
qps_error_set(struct qps_error *e, int http_status, enum qps_code code,
    const char *resolution, const char *fmt, ...)
{
    char raw[sizeof(e->message) * 2];
    va_list ap;

    e->http_status = http_status;
    e->code = code;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    if (n < 0)
        raw[0] = '\0';
    text_clean(e->message, sizeof(e->message), raw);
    text_clean(e->resolution, sizeof(e->resolution), resolution == NULL ? "" : resolution);
}

/* libxml2 reports through this when no parser context is at hand; the caller reads
 * the error from the context instead, so there is nothing to print. */
static void
xml_generic_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void
xml_structured_quiet(void *ctx, xmlErrorPtr error)
{
    (void)ctx;
    (void)error;
}

void
qps_init(void)
{
    xmlInitParser();
    /* The generic handler is per thread in libxml2: set this thread's and the
     * default every later thread starts with. */
    xmlThrDefSetGenericErrorFunc(NULL, xml_generic_quiet);
    xmlSetGenericErrorFunc(NULL, xml_generic_quiet);
}

void
qps_cleanup(void)
{
    xmlCleanupParser();
}

/* Is the media type [p, p+n) one of the XML types? */
static bool
media_is_xml(const char *p, size_t n)
{
    static const char *const xml_types[] = { "application/xml", "text/xml" };

    for (size_t i = 0; i < sizeof(xml_types) / sizeof(xml_types[0]); i++)
        if (strlen(xml_types[i]) == n && strncasecmp(p, xml_types[i], n) == 0)
            return true;
    return n > 4 && strncasecmp(p + n - 4, "+xml", 4) == 0;
}

/* Does the parameter list [p, end) carry q=0, i.e. "not acceptable"? */
static bool
media_refused(const char *p, const char *end)
{
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (semi == NULL)
            return false;
        p = semi + 1;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            const char *v = p + 2;
            bool zero = v < end && *v == '0';
            for (v++; zero && v < end && *v != ';' && *v != ' '; v++)
                if (*v != '.' && *v != '0')
                    zero = false;
            return zero;
        }
    }
    return false;
}

enum qps_format
qps_format_from_accept(const char *accept)
{
    const char *p = accept;

    if (p == NULL)
        return QPS_XML;
    /* Media ranges are taken in the order written, q-values aside from q=0: the
     * clients that want JSON list it first, and XML stays the vendor's default. */
    while (*p != '\0') {
        const char *end = p + strcspn(p, ",");
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        size_t tlen = strcspn(p, ",; \t");
        if (!media_refused(p, end)) {
            if (tlen == 16 && strncasecmp(p, "application/json", 16) == 0)
                return QPS_JSON;
            if (media_is_xml(p, tlen))
                return QPS_XML;
        }
        p = *end == ',' ? end + 1 : end;
    }
    return QPS_XML;
}

#define ASSET_HINT "Put the numeric asset id in the path: /qps/rest/1.0/ods/ca/agentasset/<id>"

static int
parse_asset_id(const char *s, int64_t *out, struct qps_error *err)
{
    char q[QPS_QUOTE_MAX + 4];
    uint64_t v = 0;

    int rc = parse_u64(s == NULL ? "" : s, (uint64_t)INT64_MAX, &v);
    if (rc == ODS_E_PARSE) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, ASSET_HINT,
            "Invalid asset id '%s': it must be a decimal number", quoted(q, s));
        return ODS_E_INVAL;
    }
    if (rc != 0 || v == 0) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, ASSET_HINT,
            "Invalid asset id '%s': out of range 1..%lld", quoted(q, s),
            (long long)INT64_MAX);
        return ODS_E_INVAL;
    }
    *out = (int64_t)v;
    return ODS_E_OK;
}

static int
parse_scan(const struct qps_arg *arg, int seen, const struct scan_type_info **out,
    struct qps_error *err)
{
    static const char one_hint[] =
        "Launch one scan type per request, each with a single scan=<type>";
    char q[QPS_QUOTE_MAX + 4];

    if (seen > 1) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, one_hint,
            "Parameter 'scan' is given %d times: one type of scan at a time", seen);
        return ODS_E_INVAL;
    }
    if (arg == NULL || arg->value == NULL || arg->value[0] == '\0') {
        qps_error_set(err, 400, QPS_INVALID_REQUEST,
            "Add scan=<type> to the query string, e.g. ?scan=Inventory_Scan",
            "%s 'scan'; valid values: %s",
            arg == NULL ? "Missing mandatory parameter" : "No value for parameter",
            scan_type_list());
        return ODS_E_INVAL;
    }
    if (strchr(arg->value, ',') != NULL) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, one_hint,
            "Scan value '%s' names several types: one type of scan at a time",
            quoted(q, arg->value));
        return ODS_E_INVAL;
    }
    *out = scan_type_parse(arg->value);
    if (*out == NULL) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST,
            "Set scan to one of the valid values (case does not matter)",
            "Unknown scan type '%s'; valid values: %s", quoted(q, arg->value),
            scan_type_list());
        return ODS_E_INVAL;
    }
    return ODS_E_OK;
}

static int
parse_override(const struct qps_arg *arg, int seen, bool *out, struct qps_error *err)
{
    char q[QPS_QUOTE_MAX + 4];

    *out = false;           /* the vendor's default: keep the profile's throttle */
    if (seen > 1) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST,
            "Give overrideConfigCpu once, as true or false",
            "Parameter 'overrideConfigCpu' is given %d times", seen);
        return ODS_E_INVAL;
    }
    if (arg == NULL)
        return ODS_E_OK;
    if (parse_bool(arg->value, out) != 0) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST,
            "Set overrideConfigCpu=true to ignore the configuration profile's CPU "
            "throttle for this scan, or false (the default) to keep it",
            "Invalid overrideConfigCpu value '%s': it must be true, false, 1 or 0",
            quoted(q, arg->value));
        return ODS_E_INVAL;
    }
    return ODS_E_OK;
}

int
qps_parse_launch(const char *asset_id, const struct qps_arg *args, size_t nargs,
    struct launch_request *out, struct qps_error *err)
{
    int64_t id;
    int rc = parse_asset_id(asset_id, &id, err);

    if (rc == 0)
        rc = qps_parse_launch_args(args, nargs, out, err);
    if (rc == 0)
        out->asset_id = id;
    return rc;
}

int
qps_parse_launch_args(const struct qps_arg *args, size_t nargs, struct launch_request *out,
    struct qps_error *err)
{
    const struct qps_arg *scan_arg = NULL, *override_arg = NULL;
    int scan_seen = 0, override_seen = 0;
    struct launch_request req = { 0 };
    int rc;

    /* Names match in any case: the vendor's own sample sends OverrideConfigCpu. A
     * repeated name counts even when spelled differently, as the intent is unclear. */
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].key == NULL)
            continue;
        if (strcasecmp(args[i].key, "scan") == 0) {
            scan_arg = &args[i];
            scan_seen++;
        } else if (strcasecmp(args[i].key, "overrideConfigCpu") == 0) {
            override_arg = &args[i];
            override_seen++;
        }
    }
    rc = parse_scan(scan_arg, scan_seen, &req.scan, err);
    if (rc != 0)
        return rc;
    rc = parse_override(override_arg, override_seen, &req.override_cpu, err);
    if (rc != 0)
        return rc;
    *out = req;
    return ODS_E_OK;
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds needle case-insensitively in [p, p+n). */
static bool
contains_nocase(const char *p, size_t n, const char *needle)
{
    size_t m = strlen(needle);

    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(p + i, needle, m) == 0)
            return true;
    return false;
}

static bool
text_is_blank(const xmlChar *s)
{
    for (; s != NULL && *s != '\0'; s++)
        if (!is_blank((char)*s))
            return false;
    return true;
}

/* Deepest element nesting under (and counting) root; walks without recursion. */
static int
xml_depth(xmlNodePtr root)
{
    xmlNodePtr n = root;
    int depth = 1, max = 1;

    while (n != NULL) {
        xmlNodePtr child = NULL;
        for (xmlNodePtr c = n->children; c != NULL; c = c->next)
            if (c->type == XML_ELEMENT_NODE) {
                child = c;
                break;
            }
        if (child != NULL) {
            n = child;
            if (++depth > max)
                max = depth;
            continue;
        }
        /* no element child: move to the next element sibling, climbing as needed */
        while (n != NULL && n != root) {
            xmlNodePtr s = n->next;
            while (s != NULL && s->type != XML_ELEMENT_NODE)
                s = s->next;
            if (s != NULL) {
                n = s;
                break;
            }
            n = n->parent;
            depth--;
        }
        if (n == root)
            break;
    }
    return max;
}

/* Checks the parsed document's root: ServiceRequest without a namespace, nesting
 * within QPS_XML_DEPTH_MAX. */
static int
xml_check_root(xmlDocPtr doc, const char *hint, struct qps_error *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    char q[QPS_QUOTE_MAX + 4];

    if (root == NULL) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, hint, "XML body has no root element");
        return ODS_E_PARSE;
    }
    if (xml_depth(root) > QPS_XML_DEPTH_MAX) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
            "XML body nests elements deeper than %d levels", QPS_XML_DEPTH_MAX);
        return ODS_E_PARSE;
    }
    /* The vendor's ServiceRequest has no namespace: one in another namespace is a
     * different element and is refused like any other root. */
    if (xmlStrcmp(root->name, BAD_CAST "ServiceRequest") != 0 || root->ns != NULL) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
            "XML root element is '%s'%s, expected 'ServiceRequest' without a namespace",
            quoted(q, (const char *)root->name), root->ns != NULL ? " in a namespace" : "");
        return ODS_E_PARSE;
    }
    return ODS_E_OK;
}

/* Checks that the ServiceRequest of a single-asset launch is empty: no elements, no text. */
static int
xml_check_empty(xmlDocPtr doc, struct qps_error *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    char q[QPS_QUOTE_MAX + 4];

    for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            qps_error_set(err, 400, QPS_INVALID_REQUEST,
                "Send an empty <ServiceRequest/>; " BULK_HINT,
                "The single-asset launch takes no filters (found <%s> in ServiceRequest)",
                quoted(q, (const char *)c->name));
            return ODS_E_PARSE;
        }
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            !text_is_blank(c->content)) {
            qps_error_set(err, 400, QPS_INVALID_REQUEST, BODY_HINT,
                "ServiceRequest must be empty but contains text");
            return ODS_E_PARSE;
        }
    }
    return ODS_E_OK;
}

/* parse_xml and parse_json get the body from its first non-blank byte; skipped_lines
 * is how many line ends came before it, so reported line numbers match the body.
 * hint is the resolution given with a malformed body. */
static int
parse_xml(const char *p, size_t n, int skipped_lines, const char *hint, xmlDocPtr *out,
    struct qps_error *err)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    int rc;

    /* Refused before parsing, anywhere in the body: no DTD means no external entity
     * to fetch (XXE) and no entity to expand (billion laughs). */
    if (contains_nocase(p, n, "<!DOCTYPE") || contains_nocase(p, n, "<!ENTITY")) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
            "DOCTYPE and entity declarations are not accepted");
        return ODS_E_PARSE;
    }
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        rc = ODS_E_NOMEM;
        goto nomem;
    }
    /* Errors stay in the context (read below), never on stderr. */
    ctxt->sax->serror = xml_structured_quiet;
    /* The body is read as UTF-8 whatever its declaration says (IGNORE_ENC): the scan
     * above sees the bytes the parser sees, so no encoding can hide a DOCTYPE. */
    doc = xmlCtxtReadMemory(ctxt, p, (int)n, NULL, "UTF-8",
        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);
    if (doc == NULL || !ctxt->wellFormed) {
        xmlErrorPtr xe = xmlCtxtGetLastError(ctxt);
        if (xe != NULL && xe->code == XML_ERR_NO_MEMORY) {
            rc = ODS_E_NOMEM;
            goto nomem;
        }
        char reason[160] = "not well-formed";
        int line = 0;
        if (xe != NULL && xe->message != NULL) {
            str_copy(reason, sizeof(reason), xe->message);
            size_t len = strlen(reason);
            while (len > 0 && is_blank(reason[len - 1]))
                reason[--len] = '\0';
            line = xe->line > 0 ? xe->line + skipped_lines : 0;
        }
        if (line > 0)
            qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
                "Malformed XML at line %d: %s", line, reason);
        else
            qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
                "Malformed XML: %s", reason);
        rc = ODS_E_PARSE;
        goto out;
    }
    rc = xml_check_root(doc, hint, err);
    if (rc == ODS_E_OK) {
        *out = doc;
        doc = NULL;
    }
    goto out;
nomem:
    qps_error_set(err, 500, QPS_INTERNAL_ERROR, "Retry the request later",
        "Out of memory while reading the request body");
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

/* Deepest object/array nesting of JSON text, counted on the raw bytes so that
 * jansson's recursive parser never sees a deep document. */
static int
json_depth(const char *p, size_t n)
{
    int depth = 0, max = 0;
    bool in_string = false, escaped = false;

    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if ((c == '}' || c == ']') && depth > 0)
            depth--;
    }
    return max;
}

static int
parse_json(const char *p, size_t n, int skipped_lines, const char *hint, json_t **out,
    json_t **request, struct qps_error *err)
{
    json_t *root = NULL;
    json_error_t jerr;
    char q[QPS_QUOTE_MAX + 4];
    int rc = ODS_E_PARSE;

    if (json_depth(p, n) > QPS_JSON_DEPTH_MAX) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
            "JSON body nests deeper than %d levels", QPS_JSON_DEPTH_MAX);
        return ODS_E_PARSE;
    }
    root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            qps_error_set(err, 500, QPS_INTERNAL_ERROR, "Retry the request later",
                "Out of memory while reading the request body");
            return ODS_E_NOMEM;
        }
        qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
            "Malformed JSON at line %d: %s", jerr.line + skipped_lines, jerr.text);
        return ODS_E_PARSE;
    }
    /* The first byte was '{', so a parsed document is an object. */
    json_t *req = json_object_get(root, "ServiceRequest");
    if (json_object_size(root) != 1 || req == NULL) {
        void *it = json_object_iter(root);
        qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
            "JSON body must be an object with the single key 'ServiceRequest' "
            "(found %zu keys%s%s%s)", json_object_size(root),
            it != NULL ? ", first '" : "",
            it != NULL ? quoted(q, json_object_iter_key(it)) : "",
            it != NULL ? "'" : "");
        goto out;
    }
    if (!json_is_object(req)) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
            "JSON 'ServiceRequest' must be an object");
        goto out;
    }
    *out = root;
    *request = req;
    root = NULL;
    rc = ODS_E_OK;
out:
    json_decref(root);
    return rc;
}

/* skip_prefix advances *i past s when the body continues with it. */
static bool
skip_prefix(const char *p, size_t n, size_t *i, const char *s)
{
    size_t k = strlen(s);

    if (n - *i < k || memcmp(p + *i, s, k) != 0)
        return false;
    *i += k;
    return true;
}

/* canonical_empty tells whether p[0..n) is one of the few spellings of the empty
 * launch body clients actually send (the vendor's is an XML declaration and an empty
 * <ServiceRequest> element), with blanks around. Such a body is well-formed with no
 * DTD and no children, so it needs no parser: creating a libxml2 parser context per
 * launch cost as many instructions as the launch's whole transaction. Anything else
 * goes to parse_xml. */
static bool
canonical_empty(const char *p, size_t n)
{
    static const char *const decls[] = {
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<?xml version=\"1.0\"?>",
    };
    size_t i = 0;

    for (size_t d = 0; d < sizeof(decls) / sizeof(decls[0]); d++)
        if (skip_prefix(p, n, &i, decls[d]))
            break;
    while (i < n && is_blank(p[i]))
        i++;
    if (!skip_prefix(p, n, &i, "<ServiceRequest></ServiceRequest>") &&
        !skip_prefix(p, n, &i, "<ServiceRequest/>"))
        return false;
    while (i < n && is_blank(p[i]))
        i++;
    return i == n;
}

int
qps_body_read(const char *body, size_t len, const char *hint, struct qps_body *out,
    struct qps_error *err)
{
    size_t i = 0;
    int lines = 0;

    memset(out, 0, sizeof(*out));
    if (hint == NULL)
        hint = BODY_HINT;
    if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    for (; i < len && is_blank(body[i]); i++)
        if (body[i] == '\n')
            lines++;
    if (i == len) {
        out->kind = QPS_BODY_EMPTY;
        return ODS_E_OK;
    }
    /* Both parsers start at the first non-blank byte: an XML declaration after
     * leading whitespace is then still at the start, as libxml2 requires. */
    if (body[i] == '<') {
        out->kind = QPS_BODY_XML;
        return parse_xml(body + i, len - i, lines, hint, &out->xml, err);
    }
    if (body[i] == '{') {
        out->kind = QPS_BODY_JSON;
        return parse_json(body + i, len - i, lines, hint, &out->json, &out->request, err);
    }
    qps_error_set(err, 400, QPS_INVALID_REQUEST, hint,
        "Request body is neither XML nor JSON (starts with byte 0x%02x)",
        (unsigned)(unsigned char)body[i]);
    return ODS_E_PARSE;
}

void
qps_body_free(struct qps_body *b)
{
    if (b == NULL)
        return;
    xmlFreeDoc(b->xml);
    json_decref(b->json);
    memset(b, 0, sizeof(*b));
}

int
qps_parse_empty_request(const char *body, size_t len, struct qps_error *err)
{
    struct qps_body b;
    char q[QPS_QUOTE_MAX + 4];
    int rc;

    if (len > QPS_BODY_MAX) {
        qps_error_set(err, 413, QPS_INVALID_REQUEST,
            "The launch body is empty or <ServiceRequest/>; send at most 64 KiB",
            "Request body of %zu bytes exceeds the limit of %d bytes", len, QPS_BODY_MAX);
        return ODS_E_TOOBIG;
    }
    /* The spellings clients actually send need no parser (see canonical_empty). */
    size_t i = 0;
    if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && is_blank(body[i]))
        i++;
    if (i < len && body[i] == '<' && canonical_empty(body + i, len - i))
        return ODS_E_OK;
    rc = qps_body_read(body, len, BODY_HINT, &b, err);
    if (rc != ODS_E_OK)
        return rc;
    if (b.kind == QPS_BODY_XML)
        rc = xml_check_empty(b.xml, err);
    else if (b.kind == QPS_BODY_JSON && json_object_size(b.request) != 0) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST,
            "Send {\"ServiceRequest\":{}}; " BULK_HINT,
            "The single-asset launch takes no filters (found '%s' in ServiceRequest)",
            quoted(q, json_object_iter_key(json_object_iter(b.request))));
        rc = ODS_E_PARSE;
    }
    qps_body_free(&b);
    return rc;
}

/* The opening every XML ServiceResponse shares, up to and including the root tag. */
static int
xml_open(struct buf *b, const char *base_url)
{
    int rc = buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ServiceResponse xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xsi:noNamespaceSchemaLocation=\"");

    if (rc == 0)
        rc = buf_xml_escaped(b, base_url == NULL ? "" : base_url);
    if (rc == 0)
        rc = buf_puts(b, "/qps/xsd/1.0/ca/agentasset.xsd\">\n");
    return rc;
}

/* Writes ids as "[1,2,3]" (no spaces: the shape clients parse as a JSON array). */
static int
ids_append(struct buf *b, const int64_t *ids, size_t n)
{
    int rc = buf_puts(b, "[");

    for (size_t i = 0; i < n && rc == 0; i++)
        rc = buf_printf(b, "%s%lld", i == 0 ? "" : ",", (long long)ids[i]);
    if (rc == 0)
        rc = buf_puts(b, "]");
    return rc;
}

static int
render_launch_xml(struct buf *b, const char *base_url, const char *module,
    const int64_t *ids, size_t n)
{
    int rc = xml_open(b, base_url);

    if (rc == 0)
        rc = buf_puts(b,
            "    <responseCode>SUCCESS</responseCode>\n"
            "    <count>1</count>\n"
            "    <data>\n"
            "        <SingleModuleResponse>\n"
            "            <module>");
    if (rc == 0)
        rc = buf_xml_escaped(b, module);
    if (rc == 0)
        rc = buf_printf(b, "</module>\n"
            "            <count>%zu</count>\n"
            "            <assetIds>", n);
    if (rc == 0)
        rc = ids_append(b, ids, n);
    if (rc == 0)
        rc = buf_puts(b, "</assetIds>\n"
            "            <responseCode>SUCCESS</responseCode>\n"
            "        </SingleModuleResponse>\n"
            "    </data>\n"
            "</ServiceResponse>\n");
    return rc;
}

static int
render_launch_json(struct buf *b, const char *module, const int64_t *ids, size_t n)
{
    int rc = buf_puts(b, "{\"ServiceResponse\":{\"responseCode\":\"SUCCESS\",\"count\":1,"
        "\"data\":[{\"SingleModuleResponse\":{\"module\":\"");

    if (rc == 0)
        rc = buf_json_escaped(b, module);
    if (rc == 0)
        rc = buf_printf(b, "\",\"count\":%zu,\"assetIds\":\"", n);
    /* digits, commas and brackets need no JSON escaping */
    if (rc == 0)
        rc = ids_append(b, ids, n);
    if (rc == 0)
        rc = buf_puts(b, "\",\"responseCode\":\"SUCCESS\"}}]}}\n");
    return rc;
}

/* Puts b back to len `mark` after a failed render, so callers see all or nothing. */
static int
rollback(struct buf *b, size_t mark, int rc)
{
    if (rc != 0 && b->data != NULL) {
        b->len = mark;
        b->data[mark] = '\0';
    }
    return rc;
}

int
qps_render_launch(struct buf *out, enum qps_format fmt, const char *base_url,
    const char *module, const int64_t *asset_ids, size_t n)
{
    size_t mark = out->len;
    int rc;

    if (module == NULL || (asset_ids == NULL && n > 0))
        return ODS_E_INVAL;
    if (fmt == QPS_JSON)
        rc = render_launch_json(out, module, asset_ids, n);
    else
        rc = render_launch_xml(out, base_url, module, asset_ids, n);
    return rollback(out, mark, rc);
}

int
qps_render_error(struct buf *out, enum qps_format fmt, const char *base_url,
    const struct qps_error *err)
{
    size_t mark = out->len;
    const char *code = qps_code_name(err->code);
    int rc;

    if (fmt == QPS_JSON) {
        rc = buf_printf(out, "{\"ServiceResponse\":{\"responseCode\":\"%s\","
            "\"responseErrorDetails\":{\"errorMessage\":\"", code);
        if (rc == 0)
            rc = buf_json_escaped(out, err->message);
        if (rc == 0)
            rc = buf_puts(out, "\",\"errorResolution\":\"");
        if (rc == 0)
            rc = buf_json_escaped(out, err->resolution);
        if (rc == 0)
            rc = buf_puts(out, "\"}}}\n");
        return rollback(out, mark, rc);
    }
    rc = xml_open(out, base_url);
    if (rc == 0)
        rc = buf_printf(out, "    <responseCode>%s</responseCode>\n"
            "    <responseErrorDetails>\n"
            "        <errorMessage>", code);
    if (rc == 0)
        rc = buf_xml_escaped(out, err->message);
    if (rc == 0)
        rc = buf_puts(out, "</errorMessage>\n        <errorResolution>");
    if (rc == 0)
        rc = buf_xml_escaped(out, err->resolution);
    if (rc == 0)
        rc = buf_puts(out, "</errorResolution>\n"
            "    </responseErrorDetails>\n"
            "</ServiceResponse>\n");
    return rollback(out, mark, rc);
}

/* xml_tree writes the members of object o as elements, indented by depth. An array
 * member K writes <K> holding the members of each of its objects (the vendor's
 * <list><Type>...</Type></list> shape); null members are left out. */
static int
xml_tree(struct buf *b, json_t *o, int depth)
{
    const char *key;
    json_t *v;
    int rc = 0;

    json_object_foreach(o, key, v) {
        if (json_is_null(v))
            continue;
        rc = buf_printf(b, "%*s<%s>", depth * 4, "", key);
        if (rc == 0 && json_is_string(v))
            rc = buf_xml_escaped(b, json_string_value(v));
        else if (rc == 0 && json_is_integer(v))
            rc = buf_printf(b, "%lld", (long long)json_integer_value(v));
        else if (rc == 0 && json_is_boolean(v))
            rc = buf_puts(b, json_is_true(v) ? "true" : "false");
        else if (rc == 0 && json_is_object(v)) {
            rc = buf_puts(b, "\n");
            if (rc == 0)
                rc = xml_tree(b, v, depth + 1);
            if (rc == 0)
                rc = buf_printf(b, "%*s", depth * 4, "");
        } else if (rc == 0 && json_is_array(v)) {
            size_t i;
            json_t *item;
            rc = buf_puts(b, "\n");
            json_array_foreach(v, i, item) {
                if (rc == 0 && json_is_object(item))
                    rc = xml_tree(b, item, depth + 1);
            }
            if (rc == 0)
                rc = buf_printf(b, "%*s", depth * 4, "");
        }
        if (rc == 0)
            rc = buf_printf(b, "</%s>\n", key);
        if (rc != 0)
            break;
    }
    return rc;
}

int
qps_render_tree(struct buf *out, enum qps_format fmt, struct json_t *response)
{
    size_t mark = out->len;
    int rc;

    if (fmt == QPS_JSON) {
        json_t *doc = json_pack("{s:O}", "ServiceResponse", response);
        if (doc == NULL)
            return ODS_E_NOMEM;
        char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (text == NULL)
            return ODS_E_NOMEM;
        rc = buf_puts(out, text);
        if (rc == 0)
            rc = buf_puts(out, "\n");
        free(text);
        return rollback(out, mark, rc);
    }
    rc = buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServiceResponse>\n");
    if (rc == 0)
        rc = xml_tree(out, response, 1);
    if (rc == 0)
        rc = buf_puts(out, "</ServiceResponse>\n");
    return rollback(out, mark, rc);
}
