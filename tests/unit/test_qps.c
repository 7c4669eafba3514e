/* test_qps.c - the QPS wire format: launch path/query parsing, launch bodies (including
 * hostile ones), Accept negotiation, and rendered responses checked byte for byte,
 * against data/xsd/agentasset.xsd, and through jansson. */
#include "err.h"
#include "qps.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#define BASE "https://127.0.0.1:8443"
#define NARGS_MAX 4

/* What a failing case must produce. */
struct expect_err {
    int           rc;
    int           status;
    enum qps_code code;
    const char   *in_message;   /* substring of err.message */
};

static void
check_err(const char *name, int rc, const struct qps_error *err, const struct expect_err *x)
{
    if (rc != x->rc)
        fail_msg("%s: rc %d (%s), expected %d; message: %s", name, rc, err_name(rc),
            x->rc, rc != 0 ? err->message : "-");
    if (rc == 0)
        return;
    if (err->http_status != x->status || err->code != x->code)
        fail_msg("%s: got %d %s, expected %d %s", name, err->http_status,
            qps_code_name(err->code), x->status, qps_code_name(x->code));
    if (strstr(err->message, x->in_message) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", name, err->message, x->in_message);
    if (err->message[0] == '\0' || err->resolution[0] == '\0')
        fail_msg("%s: message and resolution must both be set", name);
}

/* ---- qps_parse_launch ---------------------------------------------------------- */

struct launch_case {
    const char        *name;
    const char        *asset_id;
    struct qps_arg     args[NARGS_MAX];
    size_t             nargs;
    struct expect_err  x;
    int64_t            want_id;
    int                want_scan;      /* enum scan_type when x.rc == 0 */
    bool               want_override;
};

#define OK_LAUNCH(id, scan, ovr) { 0, 0, 0, NULL }, id, scan, ovr
#define BAD(msg) { ODS_E_INVAL, 400, QPS_INVALID_REQUEST, msg }, 0, 0, false
#define A(k, v) { k, v }

static const struct launch_case launch_cases[] = {
    /* scan values in the spellings clients use */
    { "vendor sample", "19105105", { A("scan", "Inventory_Scan"), A("OverrideConfigCpu", "false") }, 2,
      OK_LAUNCH(19105105, SCAN_INVENTORY, false) },
    { "inventory lower", "1", { A("scan", "inventory_scan") }, 1, OK_LAUNCH(1, SCAN_INVENTORY, false) },
    { "SWCA_scan", "1", { A("scan", "SWCA_scan") }, 1, OK_LAUNCH(1, SCAN_SWCA, false) },
    { "SWCA_Scan", "1", { A("scan", "SWCA_Scan") }, 1, OK_LAUNCH(1, SCAN_SWCA, false) },
    { "swca_scan", "1", { A("scan", "swca_scan") }, 1, OK_LAUNCH(1, SCAN_SWCA, false) },
    { "PolicyCompliance_Scan", "1", { A("scan", "PolicyCompliance_Scan") }, 1,
      OK_LAUNCH(1, SCAN_POLICY_COMPLIANCE, false) },
    { "UDC_Scan", "1", { A("scan", "UDC_Scan") }, 1, OK_LAUNCH(1, SCAN_UDC, false) },
    { "SCA_Scan", "1", { A("scan", "SCA_Scan") }, 1, OK_LAUNCH(1, SCAN_SCA, false) },
    { "Vulnerability_Scan", "1", { A("scan", "Vulnerability_Scan") }, 1,
      OK_LAUNCH(1, SCAN_VULNERABILITY, false) },
    { "name SCAN upper", "1", { A("SCAN", "UDC_Scan") }, 1, OK_LAUNCH(1, SCAN_UDC, false) },
    /* scan errors */
    { "scan missing", "1", { A("overrideConfigCpu", "true") }, 1, BAD("Inventory_Scan, Vulnerability_Scan") },
    { "no args", "1", { A(NULL, NULL) }, 0, BAD("Missing mandatory parameter 'scan'") },
    { "scan no value", "1", { A("scan", NULL) }, 1, BAD("SWCA_scan") },
    { "scan empty", "1", { A("scan", "") }, 1, BAD("No value for parameter 'scan'") },
    { "scan unknown", "1", { A("scan", "Full_Scan") }, 1, BAD("Unknown scan type 'Full_Scan'") },
    { "scan unknown lists", "1", { A("scan", "Full_Scan") }, 1, BAD("PolicyCompliance_Scan") },
    { "scan twice", "1", { A("scan", "UDC_Scan"), A("scan", "UDC_Scan") }, 2,
      BAD("one type of scan at a time") },
    { "scan twice, two cases", "1", { A("scan", "UDC_Scan"), A("Scan", "SCA_Scan") }, 2,
      BAD("one type of scan at a time") },
    { "scan comma", "1", { A("scan", "UDC_Scan,SCA_Scan") }, 1, BAD("one type of scan at a time") },
    /* overrideConfigCpu: name in any case, values true/false/1/0 in any case */
    { "OverrideConfigCpu", "1", { A("scan", "SCA_Scan"), A("OverrideConfigCpu", "true") }, 2,
      OK_LAUNCH(1, SCAN_SCA, true) },
    { "overrideconfigcpu", "1", { A("overrideconfigcpu", "True"), A("scan", "SCA_Scan") }, 2,
      OK_LAUNCH(1, SCAN_SCA, true) },
    { "override TRUE", "1", { A("scan", "SCA_Scan"), A("overrideConfigCpu", "TRUE") }, 2,
      OK_LAUNCH(1, SCAN_SCA, true) },
    { "override false", "1", { A("scan", "SCA_Scan"), A("overrideConfigCpu", "false") }, 2,
      OK_LAUNCH(1, SCAN_SCA, false) },
    { "override 1", "1", { A("scan", "SCA_Scan"), A("overrideConfigCpu", "1") }, 2,
      OK_LAUNCH(1, SCAN_SCA, true) },
    { "override 0", "1", { A("scan", "SCA_Scan"), A("overrideConfigCpu", "0") }, 2,
      OK_LAUNCH(1, SCAN_SCA, false) },
    { "override yes", "1", { A("scan", "SCA_Scan"), A("overrideConfigCpu", "yes") }, 2,
      BAD("Invalid overrideConfigCpu value 'yes'") },
    { "override empty", "1", { A("scan", "SCA_Scan"), A("overrideConfigCpu", "") }, 2,
      BAD("Invalid overrideConfigCpu value ''") },
    { "override no value", "1", { A("scan", "SCA_Scan"), A("overrideConfigCpu", NULL) }, 2,
      BAD("Invalid overrideConfigCpu value") },
    { "override twice", "1",
      { A("scan", "SCA_Scan"), A("overrideConfigCpu", "true"), A("OVERRIDECONFIGCPU", "true") }, 3,
      BAD("'overrideConfigCpu' is given 2 times") },
    /* other parameters are ignored (cache busters) */
    { "extra args", "7", { A("_", "12345"), A("scan", "UDC_Scan"), A("foo", NULL) }, 3,
      OK_LAUNCH(7, SCAN_UDC, false) },
    /* asset ids */
    { "id max", "9223372036854775807", { A("scan", "UDC_Scan") }, 1,
      OK_LAUNCH(INT64_MAX, SCAN_UDC, false) },
    { "id max+1", "9223372036854775808", { A("scan", "UDC_Scan") }, 1, BAD("out of range") },
    { "id huge", "99999999999999999999999999", { A("scan", "UDC_Scan") }, 1, BAD("out of range") },
    { "id 0", "0", { A("scan", "UDC_Scan") }, 1, BAD("Invalid asset id '0': out of range") },
    { "id -1", "-1", { A("scan", "UDC_Scan") }, 1, BAD("Invalid asset id '-1'") },
    { "id abc", "abc", { A("scan", "UDC_Scan") }, 1, BAD("Invalid asset id 'abc':") },
    { "id 12a", "12a", { A("scan", "UDC_Scan") }, 1, BAD("Invalid asset id '12a'") },
    { "id +1", "+1", { A("scan", "UDC_Scan") }, 1, BAD("Invalid asset id '+1'") },
    { "id empty", "", { A("scan", "UDC_Scan") }, 1, BAD("Invalid asset id ''") },
    { "id NULL", NULL, { A("scan", "UDC_Scan") }, 1, BAD("Invalid asset id") },
    /* the asset id is checked before the query */
    { "id and scan bad", "x", { A("scan", "nope") }, 1, BAD("Invalid asset id 'x'") },
};

static void
test_parse_launch(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(launch_cases) / sizeof(launch_cases[0]); i++) {
        const struct launch_case *c = &launch_cases[i];
        struct launch_request req = { .asset_id = -42 };
        struct qps_error err = { 0 };

        int rc = qps_parse_launch(c->asset_id, c->args, c->nargs, &req, &err);
        check_err(c->name, rc, &err, &c->x);
        if (rc != 0) {
            if (req.asset_id != -42)
                fail_msg("%s: *out written on failure", c->name);
            continue;
        }
        if (req.asset_id != c->want_id || req.scan == NULL ||
            (int)req.scan->type != c->want_scan || req.override_cpu != c->want_override)
            fail_msg("%s: got id %lld scan %d override %d", c->name, (long long)req.asset_id,
                req.scan != NULL ? (int)req.scan->type : -1, req.override_cpu);
    }
}

/* A quoted client value is bounded and cannot break the rendered document. */
static void
test_parse_launch_quotes_safely(void **state)
{
    char longval[600];
    struct qps_arg args[] = { { "scan", longval } };
    struct launch_request req;
    struct qps_error err;

    (void)state;
    memset(longval, 'A', sizeof(longval) - 1);
    longval[sizeof(longval) - 1] = '\0';
    assert_int_equal(qps_parse_launch("1", args, 1, &req, &err), ODS_E_INVAL);
    assert_non_null(strstr(err.message, "AAA...'"));
    assert_non_null(strstr(err.message, "SWCA_scan"));   /* the list survives */

    args[0].value = "bad\xff\x01<&>\xc3\xa9";
    assert_int_equal(qps_parse_launch("1", args, 1, &req, &err), ODS_E_INVAL);
    assert_non_null(strstr(err.message, "'bad?" "?<&>\xc3\xa9'"));
}

/* ---- qps_error_set --------------------------------------------------------------- */

static void
test_error_set(void **state)
{
    struct qps_error e;
    char big[1000];

    (void)state;
    qps_error_set(&e, 404, QPS_NOT_FOUND, "Check the id: 100%", "Asset %d not found", 5);
    assert_int_equal(e.http_status, 404);
    assert_int_equal(e.code, QPS_NOT_FOUND);
    assert_string_equal(e.message, "Asset 5 not found");
    assert_string_equal(e.resolution, "Check the id: 100%");

    /* truncation ends in "..." and never splits a UTF-8 character (2-byte é) */
    for (size_t i = 0; i + 2 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[sizeof(big) - 2] = '\0';
    qps_error_set(&e, 400, QPS_INVALID_REQUEST, big, "%s", big);
    size_t len = strlen(e.message);
    assert_true(len < sizeof(e.message));
    assert_string_equal(e.message + len - 3, "...");
    assert_int_equal(((unsigned char)e.message[len - 4]), 0xa9);
    assert_int_equal(strlen(e.resolution), len);

    /* exactly fitting text is kept whole */
    memset(big, 'x', sizeof(e.message) - 1);
    big[sizeof(e.message) - 1] = '\0';
    qps_error_set(&e, 400, QPS_INVALID_REQUEST, NULL, "%s", big);
    assert_string_equal(e.message, big);
    assert_string_equal(e.resolution, "");

    /* invalid UTF-8 (overlong, surrogate, U+FFFE, lone continuation) becomes '?' */
    qps_error_set(&e, 400, QPS_INVALID_REQUEST, "r", "%s", "a\xc0\xaf" "b\xed\xa0\x80" "c\xef\xbf\xbe" "d\x80");
    assert_string_equal(e.message, "a??b???c???d?");
}

/* ---- qps_format_from_accept ------------------------------------------------------ */

static void
test_format_from_accept(void **state)
{
    static const struct {
        const char     *accept;
        enum qps_format want;
    } cases[] = {
        { NULL, QPS_XML },
        { "", QPS_XML },
        { "*/*", QPS_XML },
        { "application/json", QPS_JSON },
        { "Application/JSON", QPS_JSON },
        { "application/json; charset=utf-8", QPS_JSON },
        { "text/html, application/json", QPS_JSON },
        { "application/xml, application/json", QPS_XML },
        { "text/xml,application/json", QPS_XML },
        { "application/json, text/xml", QPS_JSON },
        { "application/atom+xml, application/json", QPS_XML },
        { "application/json;q=0, text/xml", QPS_XML },
        { "application/json;q=0.0", QPS_XML },
        { "application/json;q=0.5", QPS_JSON },
        { "application/jsonx", QPS_XML },
        { "  application/json  ", QPS_JSON },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (qps_format_from_accept(cases[i].accept) != cases[i].want)
            fail_msg("Accept '%s': wrong format", cases[i].accept ? cases[i].accept : "(null)");
}

/* ---- qps_parse_empty_request ------------------------------------------------------ */

struct body_case {
    const char       *name;
    const char       *body;
    size_t            len;       /* 0: strlen(body) */
    struct expect_err x;
};

#define OK_BODY { 0, 0, 0, NULL }
#define BAD_BODY(msg) { ODS_E_PARSE, 400, QPS_INVALID_REQUEST, msg }
#define NO_FILTERS "The single-asset launch takes no filters"

static const struct body_case body_cases[] = {
    { "empty", "", 0, OK_BODY },
    { "blank", "  \n", 0, OK_BODY },
    { "blank tabs crlf", "\t\r\n \r\n", 0, OK_BODY },
    { "BOM only", "\xef\xbb\xbf", 0, OK_BODY },
    { "vendor body", "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<ServiceRequest></ServiceRequest>",
      0, OK_BODY },
    { "vendor body, space-joined (Python SDK)",
      "<?xml version=\"1.0\" encoding=\"UTF-8\" ?> <ServiceRequest></ServiceRequest>", 0, OK_BODY },
    { "self-closing", "<ServiceRequest/>", 0, OK_BODY },
    { "BOM + XML", "\xef\xbb\xbf<?xml version=\"1.0\"?><ServiceRequest/>", 0, OK_BODY },
    { "whitespace + XML", "  \r\n\t<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServiceRequest/>\n",
      0, OK_BODY },
    { "XML whitespace inside", "<ServiceRequest>\n   \n</ServiceRequest>", 0, OK_BODY },
    { "XML comment inside", "<ServiceRequest><!-- nothing --></ServiceRequest>", 0, OK_BODY },
    { "XML other encoding declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ServiceRequest/>",
      0, OK_BODY },
    { "JSON", "{\"ServiceRequest\":{}}", 0, OK_BODY },
    { "JSON spaced + BOM", "\xef\xbb\xbf\n { \"ServiceRequest\" : { } }\n", 0, OK_BODY },
    /* malformed */
    { "malformed XML", "<ServiceRequest>", 0, BAD_BODY("Malformed XML at line 1") },
    { "malformed XML, tag mismatch, line 3", "\n\n<ServiceRequest></ServiceReq>", 0,
      BAD_BODY("Malformed XML at line 3") },
    { "XML trailing junk", "<ServiceRequest/>junk", 0, BAD_BODY("Malformed XML") },
    { "vendor body + second root", "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
      "<ServiceRequest></ServiceRequest><ServiceRequest/>", 0, BAD_BODY("Malformed XML") },
    { "declaration twice", "<?xml version=\"1.0\"?><?xml version=\"1.0\"?><ServiceRequest/>", 0,
      BAD_BODY("Malformed XML") },
    { "XML undefined entity", "<ServiceRequest>&x;</ServiceRequest>", 0, BAD_BODY("Malformed XML") },
    { "XML with NUL", "<ServiceRequest>\0</ServiceRequest>", 35, BAD_BODY("Malformed XML") },
    { "malformed JSON", "{\"ServiceRequest\":{}", 0, BAD_BODY("Malformed JSON at line 1") },
    { "JSON trailing junk", "{\"ServiceRequest\":{}} x", 0, BAD_BODY("Malformed JSON") },
    { "JSON duplicate key", "{\"ServiceRequest\":{},\"ServiceRequest\":{}}", 0,
      BAD_BODY("duplicate") },
    /* wrong shape */
    { "wrong root", "<ServiceResponse/>", 0, BAD_BODY("root element is 'ServiceResponse'") },
    { "child element", "<ServiceRequest><filters/></ServiceRequest>", 0, BAD_BODY(NO_FILTERS) },
    { "bulk filters", "<ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">1,2"
      "</Criteria></filters></ServiceRequest>", 0, BAD_BODY(NO_FILTERS) },
    { "text content", "<ServiceRequest>hello</ServiceRequest>", 0, BAD_BODY("contains text") },
    { "CDATA content", "<ServiceRequest><![CDATA[x]]></ServiceRequest>", 0, BAD_BODY("contains text") },
    { "JSON filters", "{\"ServiceRequest\":{\"filters\":{}}}", 0, BAD_BODY(NO_FILTERS) },
    { "JSON wrong key", "{\"Request\":{}}", 0, BAD_BODY("single key 'ServiceRequest'") },
    { "JSON empty object", "{}", 0, BAD_BODY("single key 'ServiceRequest'") },
    { "JSON two keys", "{\"ServiceRequest\":{},\"x\":1}", 0, BAD_BODY("single key 'ServiceRequest'") },
    { "JSON value not object", "{\"ServiceRequest\":[]}", 0, BAD_BODY("must be an object") },
    { "JSON array top", "[{\"ServiceRequest\":{}}]", 0, BAD_BODY("neither XML nor JSON") },
    { "plain text", "scan=Inventory_Scan", 0, BAD_BODY("neither XML nor JSON") },
    { "UTF-16 BOM", "\xff\xfe<\0S\0", 6, BAD_BODY("neither XML nor JSON") },
    /* hostile */
    { "XXE", "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><ServiceRequest>&x;</ServiceRequest>",
      0, BAD_BODY("DOCTYPE and entity declarations are not accepted") },
    { "DOCTYPE after declaration", "<?xml version=\"1.0\"?>\n<!DOCTYPE ServiceRequest><ServiceRequest/>",
      0, BAD_BODY("DOCTYPE and entity declarations are not accepted") },
    { "lower-case doctype", "<!doctype x><ServiceRequest/>", 0,
      BAD_BODY("DOCTYPE and entity declarations are not accepted") },
    { "billion laughs",
      "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
      " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
      "]>\n<ServiceRequest>&lol4;</ServiceRequest>", 0,
      BAD_BODY("DOCTYPE and entity declarations are not accepted") },
    /* the declared encoding cannot smuggle a DOCTYPE past the byte scan: in UTF-7
     * "+ADw-" is '<' and this is a DOCTYPE and a valid root, but the body is read as
     * UTF-8 whatever it declares, which makes it text before the root */
    { "UTF-7 declared", "<?xml version=\"1.0\" encoding=\"UTF-7\"?>+ADw-!DOCTYPE r+AD4-<ServiceRequest/>",
      0, BAD_BODY("Malformed XML at line 1: Start tag expected") },
};

static void
run_body(const char *name, const char *body, size_t len, const struct expect_err *x)
{
    struct qps_error err = { 0 };

    int rc = qps_parse_empty_request(body, len, &err);
    check_err(name, rc, &err, x);
}

static void
test_parse_body_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
        const struct body_case *c = &body_cases[i];
        run_body(c->name, c->body, c->len != 0 ? c->len : strlen(c->body), &c->x);
    }
    struct expect_err ok = OK_BODY;
    run_body("NULL, 0", NULL, 0, &ok);
}

static void
test_parse_body_vendor_file(void **state)
{
    const char *dir = getenv("ODS_TEST_DATA");
    char path[4096], body[512];
    struct expect_err ok = OK_BODY;

    (void)state;
    assert_non_null(dir);
    assert_true(snprintf(path, sizeof(path), "%s/qps/SingleAgent_ODS.xml", dir) < (int)sizeof(path));
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(body, 1, sizeof(body), f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(body));
    run_body("SingleAgent_ODS.xml", body, n, &ok);
}

/* Builds depth-deep nesting: open repeated, then close repeated, inside a wrapper. */
static char *
nest(const char *head, const char *open, const char *close, const char *tail, int depth)
{
    size_t n = strlen(head) + strlen(tail) + (size_t)depth * (strlen(open) + strlen(close)) + 1;
    char *s = malloc(n), *p;

    assert_non_null(s);
    p = s;
    p += snprintf(p, n, "%s", head);
    for (int i = 0; i < depth; i++)
        p += snprintf(p, n - (size_t)(p - s), "%s", open);
    for (int i = 0; i < depth; i++)
        p += snprintf(p, n - (size_t)(p - s), "%s", close);
    snprintf(p, n - (size_t)(p - s), "%s", tail);
    return s;
}

static void
test_parse_body_depth(void **state)
{
    struct expect_err deep_xml = BAD_BODY("deeper than 32 levels");
    struct expect_err deep_json = BAD_BODY("deeper than 32 levels");
    struct expect_err filters = BAD_BODY(NO_FILTERS);
    char *s;

    (void)state;
    /* ServiceRequest + 39 levels = depth 40 */
    s = nest("<ServiceRequest>", "<a>", "</a>", "</ServiceRequest>", 39);
    run_body("XML depth 40", s, strlen(s), &deep_xml);
    free(s);
    /* exactly at the limit it is a well-formed document with a child: no filters */
    s = nest("<ServiceRequest>", "<a>", "</a>", "</ServiceRequest>", QPS_XML_DEPTH_MAX - 1);
    run_body("XML depth 32", s, strlen(s), &filters);
    free(s);
    /* deep siblings later in the tree are found too */
    s = nest("<ServiceRequest><b/><c><d/></c>", "<a>", "</a>", "</ServiceRequest>", 35);
    run_body("XML deep second branch", s, strlen(s), &deep_xml);
    free(s);
    /* beyond libxml2's own limit (256) it is malformed, never a crash */
    s = nest("<ServiceRequest>", "<a>", "</a>", "</ServiceRequest>", 5000);
    struct expect_err very_deep = BAD_BODY("Malformed XML");
    run_body("XML depth 5001", s, strlen(s), &very_deep);
    free(s);

    s = nest("{\"ServiceRequest\":", "{\"a\":", "}", "}", 40);
    run_body("JSON depth 41", s, strlen(s), &deep_json);
    free(s);
    s = nest("{\"ServiceRequest\":", "[", "]", "}", 10000);
    run_body("JSON arrays depth 10001", s, strlen(s), &deep_json);
    free(s);
    /* brackets inside strings do not count */
    s = nest("{\"ServiceRequest\":{\"k\":\"", "[{\\\"", "", "\"}}", 100);
    run_body("JSON brackets in a string", s, strlen(s), &filters);
    free(s);
}

static void
test_parse_body_too_big(void **state)
{
    struct expect_err too_big = { ODS_E_TOOBIG, 413, QPS_INVALID_REQUEST, "exceeds the limit" };
    struct expect_err ok = OK_BODY;
    char *s = malloc(QPS_BODY_MAX + 1);

    (void)state;
    assert_non_null(s);
    memset(s, ' ', QPS_BODY_MAX + 1);
    run_body("QPS_BODY_MAX + 1", s, QPS_BODY_MAX + 1, &too_big);
    run_body("QPS_BODY_MAX blanks", s, QPS_BODY_MAX, &ok);
    free(s);
}

/* The server parses bodies on many threads at once: each thread runs the whole body
 * table and counts the cases whose outcome differs from the table. */
#define PARSE_THREADS 4
#define PARSE_ROUNDS  50

static void *
parse_worker(void *arg)
{
    size_t *wrong = arg;

    for (int r = 0; r < PARSE_ROUNDS; r++)
        for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
            const struct body_case *c = &body_cases[i];
            struct qps_error err = { 0 };
            int rc = qps_parse_empty_request(c->body, c->len != 0 ? c->len : strlen(c->body), &err);
            if (rc != c->x.rc || (rc != 0 && strstr(err.message, c->x.in_message) == NULL))
                (*wrong)++;
        }
    return NULL;
}

static void
test_parse_body_threads(void **state)
{
    pthread_t tid[PARSE_THREADS];
    size_t wrong[PARSE_THREADS] = { 0 };

    (void)state;
    for (int i = 0; i < PARSE_THREADS; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, parse_worker, &wrong[i]), 0);
    for (int i = 0; i < PARSE_THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(wrong[i], 0);
    }
}

/* ---- rendering -------------------------------------------------------------------- */

static const char launch_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ServiceResponse xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
    "xsi:noNamespaceSchemaLocation=\"https://127.0.0.1:8443/qps/xsd/1.0/ca/agentasset.xsd\">\n"
    "    <responseCode>SUCCESS</responseCode>\n"
    "    <count>1</count>\n"
    "    <data>\n"
    "        <SingleModuleResponse>\n"
    "            <module>Inventory Scan</module>\n"
    "            <count>1</count>\n"
    "            <assetIds>[19105105]</assetIds>\n"
    "            <responseCode>SUCCESS</responseCode>\n"
    "        </SingleModuleResponse>\n"
    "    </data>\n"
    "</ServiceResponse>\n";

static const char launch_json[] =
    "{\"ServiceResponse\":{\"responseCode\":\"SUCCESS\",\"count\":1,\"data\":[{\"SingleModuleResponse\":"
    "{\"module\":\"Inventory Scan\",\"count\":1,\"assetIds\":\"[19105105]\",\"responseCode\":\"SUCCESS\"}}]}}\n";

static xmlSchemaPtr schema;

static int
setup_schema(void **state)
{
    const char *dir = getenv("ODS_TEST_DATA");
    char path[4096];

    (void)state;
    qps_init();
    if (dir == NULL || snprintf(path, sizeof(path), "%s/../../data/xsd/agentasset.xsd", dir)
        >= (int)sizeof(path))
        return -1;
    xmlSchemaParserCtxtPtr pctxt = xmlSchemaNewParserCtxt(path);
    if (pctxt == NULL)
        return -1;
    schema = xmlSchemaParse(pctxt);
    xmlSchemaFreeParserCtxt(pctxt);
    return schema == NULL ? -1 : 0;
}

static int
teardown_schema(void **state)
{
    (void)state;
    xmlSchemaFree(schema);
    qps_cleanup();
    return 0;
}

/* Fails the test unless xml is well-formed and valid against agentasset.xsd. */
static void
assert_valid_xml(const char *what, const char *xml, size_t len)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET);
    if (doc == NULL)
        fail_msg("%s: not well-formed:\n%s", what, xml);
    xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema);
    assert_non_null(v);
    int rc = xmlSchemaValidateDoc(v, doc);
    xmlSchemaFreeValidCtxt(v);
    xmlFreeDoc(doc);
    if (rc != 0)
        fail_msg("%s: does not validate (%d):\n%s", what, rc, xml);
}

/* Parses JSON and returns ServiceResponse; the caller decrefs *root. */
static json_t *
json_service_response(const char *what, const struct buf *b, json_t **root)
{
    json_error_t jerr;

    if (b->len == 0 || b->data[b->len - 1] != '\n')
        fail_msg("%s: JSON must end in a newline", what);
    *root = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &jerr);
    if (*root == NULL)
        fail_msg("%s: bad JSON (%s): %s", what, jerr.text, b->data);
    json_t *sr = json_object_get(*root, "ServiceResponse");
    assert_true(json_is_object(sr));
    assert_int_equal(json_object_size(*root), 1);
    return sr;
}

static void
test_render_launch_exact(void **state)
{
    struct buf b;
    int64_t id = 19105105;

    (void)state;
    buf_init(&b, QPS_RESPONSE_MAX);
    assert_int_equal(qps_render_launch(&b, QPS_XML, BASE, "Inventory Scan", &id, 1), 0);
    assert_string_equal(b.data, launch_xml);
    assert_int_equal(b.len, strlen(launch_xml));
    assert_valid_xml("launch", b.data, b.len);

    buf_reset(&b);
    assert_int_equal(qps_render_launch(&b, QPS_JSON, BASE, "Inventory Scan", &id, 1), 0);
    assert_string_equal(b.data, launch_json);
    buf_free(&b);
}

static void
test_render_launch_many(void **state)
{
    static const int64_t ids[] = { 1, 2, INT64_MAX };
    struct buf b;
    json_t *root;

    (void)state;
    buf_init(&b, QPS_RESPONSE_MAX);
    for (int t = 0; t < SCAN_TYPE_COUNT; t++) {
        const struct scan_type_info *st = scan_type_get(t);
        for (size_t n = 0; n <= 3; n++) {
            buf_reset(&b);
            assert_int_equal(qps_render_launch(&b, QPS_XML, BASE, st->module, ids, n), 0);
            assert_valid_xml(st->module, b.data, b.len);
        }
    }
    buf_reset(&b);
    assert_int_equal(qps_render_launch(&b, QPS_XML, BASE, "SwCA Scan", ids, 3), 0);
    assert_non_null(strstr(b.data, "<count>3</count>\n            <assetIds>[1,2,9223372036854775807]</assetIds>"));

    /* JSON: assetIds is a string holding a JSON array, as SOAR clients parse it */
    buf_reset(&b);
    assert_int_equal(qps_render_launch(&b, QPS_JSON, BASE, "Policy Compliance Scan", ids, 3), 0);
    json_t *sr = json_service_response("launch json", &b, &root);
    assert_string_equal(json_string_value(json_object_get(sr, "responseCode")), "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(sr, "count")), 1);
    json_t *data = json_object_get(sr, "data");
    assert_true(json_is_array(data));
    assert_int_equal(json_array_size(data), 1);
    json_t *smr = json_object_get(json_array_get(data, 0), "SingleModuleResponse");
    assert_string_equal(json_string_value(json_object_get(smr, "module")), "Policy Compliance Scan");
    assert_int_equal(json_integer_value(json_object_get(smr, "count")), 3);
    const char *ids_text = json_string_value(json_object_get(smr, "assetIds"));
    assert_non_null(ids_text);
    json_t *arr = json_loads(ids_text, 0, NULL);
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 3);
    assert_int_equal(json_integer_value(json_array_get(arr, 2)), INT64_MAX);
    json_decref(arr);
    json_decref(root);
    buf_free(&b);
}

static void
test_render_error(void **state)
{
    static const char hostile[] = "bad <tag> & \"quote\" 'apos' \\ \x01 \xc3\xa9";
    struct buf b;
    struct qps_error err;
    json_t *root;

    (void)state;
    buf_init(&b, QPS_RESPONSE_MAX);
    qps_error_set(&err, 400, QPS_INVALID_REQUEST, "Fix <it> & retry", "%s", hostile);
    assert_int_equal(qps_render_error(&b, QPS_XML, BASE, &err), 0);
    assert_string_equal(b.data,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ServiceResponse xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xsi:noNamespaceSchemaLocation=\"https://127.0.0.1:8443/qps/xsd/1.0/ca/agentasset.xsd\">\n"
        "    <responseCode>INVALID_REQUEST</responseCode>\n"
        "    <responseErrorDetails>\n"
        "        <errorMessage>bad &lt;tag&gt; &amp; &quot;quote&quot; &apos;apos&apos; \\ ? \xc3\xa9</errorMessage>\n"
        "        <errorResolution>Fix &lt;it&gt; &amp; retry</errorResolution>\n"
        "    </responseErrorDetails>\n"
        "</ServiceResponse>\n");
    assert_valid_xml("hostile error", b.data, b.len);

    buf_reset(&b);
    assert_int_equal(qps_render_error(&b, QPS_JSON, BASE, &err), 0);
    assert_string_equal(b.data,
        "{\"ServiceResponse\":{\"responseCode\":\"INVALID_REQUEST\",\"responseErrorDetails\":"
        "{\"errorMessage\":\"bad <tag> & \\\"quote\\\" 'apos' \\\\ ? \xc3\xa9\","
        "\"errorResolution\":\"Fix <it> & retry\"}}}\n");

    /* every code renders valid XML and well-shaped JSON */
    static const enum qps_code codes[] = {
#define XX(name, status) QPS_##name,
        QPS_CODE_TABLE(XX)
#undef XX
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *name = qps_code_name(codes[i]);
        qps_error_set(&err, qps_code_status(codes[i]), codes[i], "do this", "%s happened", name);
        buf_reset(&b);
        assert_int_equal(qps_render_error(&b, QPS_XML, BASE, &err), 0);
        assert_valid_xml(name, b.data, b.len);

        buf_reset(&b);
        assert_int_equal(qps_render_error(&b, QPS_JSON, BASE, &err), 0);
        json_t *sr = json_service_response(name, &b, &root);
        assert_string_equal(json_string_value(json_object_get(sr, "responseCode")), name);
        json_t *d = json_object_get(sr, "responseErrorDetails");
        assert_string_equal(json_string_value(json_object_get(d, "errorMessage")), err.message);
        assert_string_equal(json_string_value(json_object_get(d, "errorResolution")), "do this");
        json_decref(root);
    }
    buf_free(&b);
}

/* Every error the parsers produce renders to a valid document, whatever was quoted. */
static void
test_render_parser_errors(void **state)
{
    struct buf b;
    struct qps_error err;
    struct launch_request req;
    json_t *root;

    (void)state;
    buf_init(&b, QPS_RESPONSE_MAX);
    for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
        const struct body_case *c = &body_cases[i];
        if (c->x.rc == 0)
            continue;
        assert_int_not_equal(qps_parse_empty_request(c->body,
            c->len != 0 ? c->len : strlen(c->body), &err), 0);
        buf_reset(&b);
        assert_int_equal(qps_render_error(&b, QPS_XML, BASE, &err), 0);
        assert_valid_xml(c->name, b.data, b.len);
        buf_reset(&b);
        assert_int_equal(qps_render_error(&b, QPS_JSON, BASE, &err), 0);
        json_service_response(c->name, &b, &root);
        json_decref(root);
    }
    for (size_t i = 0; i < sizeof(launch_cases) / sizeof(launch_cases[0]); i++) {
        const struct launch_case *c = &launch_cases[i];
        if (c->x.rc == 0)
            continue;
        assert_int_not_equal(qps_parse_launch(c->asset_id, c->args, c->nargs, &req, &err), 0);
        buf_reset(&b);
        assert_int_equal(qps_render_error(&b, QPS_XML, BASE, &err), 0);
        assert_valid_xml(c->name, b.data, b.len);
    }
    buf_free(&b);
}

/* A render that does not fit leaves the buffer as it was. */
static void
test_render_too_big(void **state)
{
    struct buf b;
    struct qps_error err;
    int64_t id = 1;

    (void)state;
    buf_init(&b, 200);
    assert_int_equal(buf_puts(&b, "keep"), 0);
    assert_int_equal(qps_render_launch(&b, QPS_XML, BASE, "Inventory Scan", &id, 1), ODS_E_TOOBIG);
    assert_string_equal(b.data, "keep");
    qps_error_set(&err, 500, QPS_INTERNAL_ERROR, "r", "m");
    assert_int_equal(qps_render_error(&b, QPS_XML, BASE, &err), ODS_E_TOOBIG);
    assert_string_equal(b.data, "keep");
    assert_int_equal(b.len, 4);
    buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_launch),
        cmocka_unit_test(test_parse_launch_quotes_safely),
        cmocka_unit_test(test_error_set),
        cmocka_unit_test(test_format_from_accept),
        cmocka_unit_test(test_parse_body_table),
        cmocka_unit_test(test_parse_body_vendor_file),
        cmocka_unit_test(test_parse_body_depth),
        cmocka_unit_test(test_parse_body_too_big),
        cmocka_unit_test(test_parse_body_threads),
        cmocka_unit_test(test_render_launch_exact),
        cmocka_unit_test(test_render_launch_many),
        cmocka_unit_test(test_render_error),
        cmocka_unit_test(test_render_parser_errors),
        cmocka_unit_test(test_render_too_big),
    };
    return cmocka_run_group_tests(tests, setup_schema, teardown_schema);
}
