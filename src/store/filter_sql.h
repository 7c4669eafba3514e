/* filter_sql.h - private to src/store/: turns a struct asset_query (QPS criteria and a
 * user's scope) into one SQL statement over `assets a` with every client value bound
 * as a parameter, in the placeholder style and functions of a backend. */
#ifndef ODSCAN_FILTER_SQL_H
#define ODSCAN_FILTER_SQL_H

#include "buf.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILTER_SQL_MAX (64 * 1024)  /* bytes of one generated statement */

/* What differs between backends. A subquery is written as pre, the placeholder of a
 * parameter holding a JSON array, post. */
struct filter_dialect {
    char        mark;          /* '?' (SQLite: ?N) or '$' (PostgreSQL: $N) */
    const char *position;      /* function (haystack, needle) -> 1-based position or 0 */
    const char *in_int[2];     /* subquery of the array's integers */
    const char *in_text[2];    /* subquery of the array's strings, lower-cased */
};

/* One bound value; text always holds its text form, i the integer when is_int. */
struct filter_param {
    bool    is_int;
    int64_t i;
    char   *text;
};

enum filter_sql_kind {
    FILTER_SQL_IDS = 0,    /* SELECT a.id ... ORDER BY a.id LIMIT (limit + 1) OFFSET */
    FILTER_SQL_COUNT,      /* SELECT count(*) ... */
};

struct filter_sql {
    struct buf           sql;
    struct filter_param *params;     /* params[k] is placeholder number k + 1 */
    size_t               nparams;
    size_t               cap;
};

/* filter_sql_build writes the statement for q into *out (initialized here; free with
 * filter_sql_free even on failure). For FILTER_SQL_IDS the statement fetches one row
 * more than q->limit (when non-zero) so the caller can tell whether more match.
 * Returns 0, ODS_E_INVAL (a criterion the builder does not know), ODS_E_TOOBIG or
 * ODS_E_NOMEM. */
int filter_sql_build(const struct filter_dialect *d, const struct asset_query *q,
    enum filter_sql_kind kind, struct filter_sql *out);
/* filter_sql_free releases the statement and its parameters. NULL-safe. */
void filter_sql_free(struct filter_sql *f);

/* filter_check_modules applies the module rules to the set an asset would have:
 * returns NULL when it is allowed, else a static reason. */
const char *filter_check_modules(unsigned mods);

#endif
