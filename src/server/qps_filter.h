/* qps_filter.h - the QPS filter language: a ServiceRequest's <filters> (Criteria with a
 * field, an operator and a value) and <preferences> (paging), in XML or JSON, checked
 * against the table of fields and the operators each field type allows, and turned
 * into store.h's struct criterion. */
#ifndef ODSCAN_QPS_FILTER_H
#define ODSCAN_QPS_FILTER_H

#include "qps.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>

#define QPS_FILTER_BODY_MAX      (1024 * 1024) /* body of a call taking filters: 10,000
                                                  ids of any length fit */
#define QPS_FILTER_VALUE_MAX     256           /* bytes of one value (one IN item) */
#define QPS_FILTER_LIMIT_DEFAULT 100           /* limitResults when absent */
#define QPS_FILTER_LIMIT_MAX     1000          /* largest limitResults */

/* The type of a field decides the operators it takes (the vendor's table). */
enum filter_type { FT_INTEGER = 0, FT_TEXT, FT_DATE, FT_KEYWORD };

/* A parsed request: criteria (AND) and paging preferences. Each criterion's values
 * are one allocation owned here; free with qps_filter_free. */
struct qps_filter {
    struct criterion criteria[FILTER_CRITERIA_MAX];
    size_t           ncriteria;
    size_t           limit;       /* limitResults, QPS_FILTER_LIMIT_DEFAULT when absent */
    size_t           offset;      /* rows skipped: startFromOffset - 1 (1-based, as QPS) */
};

/* qps_filter_parse reads the filters and preferences of a body read by qps_body_read
 * (an empty body has none). Field names and operators match case-insensitively.
 * Values: integers in decimal; dates in ISO 8601 ("2024-05-01T12:00:00Z", an offset
 * "+02:00", or a date alone), stored as two values - the first and the last-plus-one
 * millisecond of the second or day written; IN takes a comma-separated list (items
 * trimmed, at most FILTER_VALUES_MAX). Returns 0 with *out filled (free with
 * qps_filter_free even on failure), or ODS_E_PARSE / ODS_E_TOOBIG (400
 * INVALID_REQUEST naming the field, operator or value) / ODS_E_NOMEM with *err set. */
int qps_filter_parse(const struct qps_body *body, struct qps_filter *out,
    struct qps_error *err);
/* qps_filter_read is qps_body_read followed by qps_filter_parse (body may be NULL when
 * len is 0; the caller enforces the size limit). */
int qps_filter_read(const char *body, size_t len, struct qps_filter *out, struct qps_error *err);
/* qps_filter_free releases the values. NULL-safe; leaves *f empty. */
void qps_filter_free(struct qps_filter *f);

/* qps_filter_field_name / qps_filter_op_name return the vendor's spelling. */
const char *qps_filter_field_name(enum filter_field f);
const char *qps_filter_op_name(enum filter_op op);

/* qps_parse_iso8601 parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]"
 * (no zone: UTC) into the first millisecond *lo and the end (exclusive) *hi of the
 * day, second or millisecond written. Returns 0 or ODS_E_PARSE. */
int qps_parse_iso8601(const char *s, int64_t *lo, int64_t *hi);

#endif
