/* test_qps_filter.c - the QPS filter language: XML and JSON ServiceRequests with
 * Criteria and preferences, each field's operators, value checks, dates and limits. */
#include "err.h"
#include "qps.h"
#include "qps_filter.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct filter_case {
    const char *name;
    const char *body;
    int         rc;             /* expected return */
    const char *in_message;     /* failure: substring of the message */
    size_t      ncriteria;      /* success: criteria parsed */
    int         field;          /* success: first criterion */
    int         op;
    const char *values;         /* success: its values joined by '|' */
    size_t      limit, offset;
};

#define BAD(n, b, r, m) { .name = n, .body = b, .rc = r, .in_message = m }
#define XML(f) "<?xml version=\"1.0\"?><ServiceRequest><filters>" f "</filters></ServiceRequest>"
#define C(field, op, v) "<Criteria field=\"" field "\" operator=\"" op "\">" v "</Criteria>"

static const struct filter_case cases[] = {
    { "id IN, trimmed", XML(C("id", "IN", " 111 , 222,333 ")), 0, NULL, 1, FF_ID, FO_IN,
      "111|222|333", 100, 0 },
    { "two criteria", XML(C("id", "IN", "1,2") C("tagName", "EQUALS", "Cloud Agent")), 0, NULL,
      2, FF_ID, FO_IN, "1|2", 100, 0 },
    { "field and operator any case", XML(C("AGENTUUID", "not equals", "abc")), 0, NULL, 1,
      FF_AGENT_UUID, FO_NOT_EQUALS, "abc", 100, 0 },
    { "text CONTAINS", XML(C("name", "CONTAINS", "web")), 0, NULL, 1, FF_NAME, FO_CONTAINS,
      "web", 100, 0 },
    { "date-only EQUALS", XML(C("lastCheckedIn", "EQUALS", "2024-05-01")), 0, NULL, 1,
      FF_LAST_CHECKED_IN, FO_EQUALS, "1714521600000|1714608000000", 100, 0 },
    { "date-time GREATER", XML(C("created", "GREATER", "2024-05-01T12:00:00Z")), 0, NULL, 1,
      FF_CREATED, FO_GREATER, "1714564800000|1714564801000", 100, 0 },
    { "date with offset", XML(C("updated", "LESSER", "2024-05-01T14:00:00+02:00")), 0, NULL, 1,
      FF_UPDATED, FO_LESSER, "1714564800000|1714564801000", 100, 0 },
    { "date with ms", XML(C("updated", "LESSER", "2024-05-01T12:00:00.250Z")), 0, NULL, 1,
      FF_UPDATED, FO_LESSER, "1714564800250|1714564800251", 100, 0 },
    { "preferences", "<ServiceRequest><preferences><limitResults>5</limitResults>"
      "<startFromOffset>11</startFromOffset></preferences></ServiceRequest>", 0, NULL, 0, 0, 0,
      NULL, 5, 10 },
    { "empty body", "", 0, NULL, 0, 0, 0, NULL, 100, 0 },
    { "JSON one Criteria", "{\"ServiceRequest\":{\"filters\":{\"Criteria\":{\"field\":\"id\","
      "\"operator\":\"IN\",\"value\":\"1,2,3\"}}}}", 0, NULL, 1, FF_ID, FO_IN, "1|2|3", 100, 0 },
    { "JSON Criteria array, integer value", "{\"ServiceRequest\":{\"filters\":{\"Criteria\":["
      "{\"field\":\"id\",\"operator\":\"EQUALS\",\"value\":7},{\"field\":\"os\","
      "\"operator\":\"CONTAINS\",\"value\":\"linux\"}]},\"preferences\":{\"limitResults\":\"1000\"}}}",
      0, NULL, 2, FF_ID, FO_EQUALS, "7", 1000, 0 },
    /* refusals */
    BAD("unknown field", XML(C("colour", "EQUALS", "red")), ODS_E_PARSE, "Unknown filter field 'colour'"),
    BAD("unknown operator", XML(C("id", "LIKE", "1")), ODS_E_PARSE, "Unknown operator 'LIKE'"),
    BAD("CONTAINS on integer", XML(C("id", "CONTAINS", "1")), ODS_E_PARSE,
      "Operator CONTAINS is not allowed for field 'id'"),
    BAD("IN on text", XML(C("name", "IN", "a,b")), ODS_E_PARSE, "Operator IN is not allowed for field 'name'"),
    BAD("GREATER on keyword", XML(C("agentUuid", "GREATER", "a")), ODS_E_PARSE, "not allowed"),
    BAD("IN on date", XML(C("created", "IN", "2024-05-01")), ODS_E_PARSE, "not allowed"),
    BAD("non-numeric id", XML(C("id", "EQUALS", "12a")), ODS_E_PARSE, "Invalid value '12a' for integer field 'id'"),
    BAD("negative id", XML(C("tagId", "IN", "1,-2")), ODS_E_PARSE, "Invalid value '-2'"),
    BAD("empty IN item", XML(C("id", "IN", "1,,2")), ODS_E_PARSE, "Empty item"),
    BAD("bad date", XML(C("lastCheckedIn", "LESSER", "2024-13-01")), ODS_E_PARSE, "Invalid date '2024-13-01'"),
    BAD("bad day", XML(C("lastCheckedIn", "LESSER", "2023-02-29")), ODS_E_PARSE, "Invalid date"),
    BAD("date garbage", XML(C("created", "EQUALS", "yesterday")), ODS_E_PARSE, "Invalid date"),
    BAD("no field", XML("<Criteria operator=\"EQUALS\">1</Criteria>"), ODS_E_PARSE, "without a field"),
    BAD("no operator", XML("<Criteria field=\"id\">1</Criteria>"), ODS_E_PARSE, "Unknown operator ''"),
    BAD("stray element", "<ServiceRequest><filter/></ServiceRequest>", ODS_E_PARSE, "Unexpected element <filter>"),
    BAD("limit 0", "<ServiceRequest><preferences><limitResults>0</limitResults></preferences></ServiceRequest>",
      ODS_E_PARSE, "Invalid limitResults '0'"),
    BAD("limit 1001", "<ServiceRequest><preferences><limitResults>1001</limitResults></preferences></ServiceRequest>",
      ODS_E_PARSE, "Invalid limitResults"),
    BAD("unknown preference", "<ServiceRequest><preferences><sortBy>id</sortBy></preferences></ServiceRequest>",
      ODS_E_PARSE, "Unknown preference 'sortBy'"),
    BAD("doctype", "<!DOCTYPE x [<!ENTITY a \"b\">]><ServiceRequest/>", ODS_E_PARSE, "DOCTYPE"),
    BAD("JSON stray member", "{\"ServiceRequest\":{\"filter\":{}}}", ODS_E_PARSE, "Unexpected member 'filter'"),
    BAD("JSON bad value type", "{\"ServiceRequest\":{\"filters\":{\"Criteria\":{\"field\":\"id\","
      "\"operator\":\"IN\",\"value\":[1,2]}}}}", ODS_E_PARSE, "string or an integer"),
};

static void
join_values(const struct criterion *c, char *dst, size_t n)
{
    size_t used = 0;

    dst[0] = '\0';
    for (size_t i = 0; i < c->nvalues; i++)
        used += (size_t)snprintf(dst + used, n - used, "%s%s", i ? "|" : "", c->values[i]);
}

static void
test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct filter_case *fc = &cases[i];
        struct qps_filter f;
        struct qps_error e = { 0 };
        char got[256];

        int rc = qps_filter_read(fc->body, strlen(fc->body), &f, &e);
        if (rc != fc->rc)
            fail_msg("%s: rc %d, want %d (%s)", fc->name, rc, fc->rc, e.message);
        if (rc != 0) {
            if (strstr(e.message, fc->in_message) == NULL)
                fail_msg("%s: message '%s' lacks '%s'", fc->name, e.message, fc->in_message);
            assert_int_equal(e.code, QPS_INVALID_REQUEST);
            assert_true(e.resolution[0] != '\0');
            qps_filter_free(&f);
            continue;
        }
        if (f.ncriteria != fc->ncriteria)
            fail_msg("%s: %zu criteria, want %zu", fc->name, f.ncriteria, fc->ncriteria);
        if (fc->ncriteria > 0) {
            assert_int_equal(f.criteria[0].field, fc->field);
            assert_int_equal(f.criteria[0].op, fc->op);
            join_values(&f.criteria[0], got, sizeof(got));
            if (strcmp(got, fc->values) != 0)
                fail_msg("%s: values '%s', want '%s'", fc->name, got, fc->values);
        }
        assert_int_equal(f.limit, fc->limit);
        assert_int_equal(f.offset, fc->offset);
        qps_filter_free(&f);
    }
}

/* IN takes FILTER_VALUES_MAX values and refuses one more. */
static void
test_in_limit(void **state)
{
    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        size_t count = FILTER_VALUES_MAX + (size_t)extra;
        size_t cap = count * 8 + 256;
        char *body = malloc(cap);
        size_t used;
        struct qps_filter f;
        struct qps_error e;

        assert_non_null(body);
        used = (size_t)snprintf(body, cap, "{\"ServiceRequest\":{\"filters\":{\"Criteria\":"
            "{\"field\":\"id\",\"operator\":\"IN\",\"value\":\"");
        for (size_t i = 1; i <= count; i++)
            used += (size_t)snprintf(body + used, cap - used, "%s%zu", i > 1 ? "," : "", i);
        used += (size_t)snprintf(body + used, cap - used, "\"}}}}");
        int rc = qps_filter_read(body, used, &f, &e);
        if (extra == 0) {
            assert_int_equal(rc, ODS_E_OK);
            assert_int_equal(f.criteria[0].nvalues, FILTER_VALUES_MAX);
        } else {
            assert_int_equal(rc, ODS_E_TOOBIG);
            assert_non_null(strstr(e.message, "Too many values"));
        }
        qps_filter_free(&f);
        free(body);
    }
}

/* More than FILTER_CRITERIA_MAX criteria are refused. */
static void
test_criteria_limit(void **state)
{
    char body[8192];
    size_t used = 0;
    struct qps_filter f;
    struct qps_error e;

    (void)state;
    used += (size_t)snprintf(body, sizeof(body), "<ServiceRequest><filters>");
    for (int i = 0; i <= FILTER_CRITERIA_MAX; i++)
        used += (size_t)snprintf(body + used, sizeof(body) - used, C("id", "GREATER", "%d"), i);
    used += (size_t)snprintf(body + used, sizeof(body) - used, "</filters></ServiceRequest>");
    assert_int_equal(qps_filter_read(body, used, &f, &e), ODS_E_TOOBIG);
    assert_non_null(strstr(e.message, "More than"));
    qps_filter_free(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_in_limit),
        cmocka_unit_test(test_criteria_limit),
    };

    qps_init();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qps_cleanup();
    return rc;
}
