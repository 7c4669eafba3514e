/* scope.c - a user's asset scope applied to queries and single-asset reads: out of
 * scope is indistinguishable from missing. */
#include "scope.h"
#include "err.h"

#include <stdio.h>

void
scope_query(const struct principal *who, struct asset_query *q)
{
    /* managers see everything, whatever scope rows they may carry */
    if (who->role == ROLE_MANAGER || who->scope_all) {
        q->scope_all = true;
        q->scope_tags = NULL;
        q->scope_n = 0;
        return;
    }
    q->scope_all = false;
    q->scope_tags = who->scope_tags;
    q->scope_n = who->scope_n;
}

int
scope_asset_visible(store_t *st, const struct principal *who, int64_t asset_id)
{
    struct asset_query q = { 0 };
    char id[24];
    char *values[] = { id };
    struct criterion c = { .field = FF_ID, .op = FO_EQUALS, .nvalues = 1, .values = values };
    size_t n = 0;

    if (snprintf(id, sizeof(id), "%lld", (long long)asset_id) >= (int)sizeof(id))
        return ODS_E_INVAL;
    q.criteria = &c;
    q.ncriteria = 1;
    scope_query(who, &q);
    int rc = store_asset_count(st, &q, &n);
    if (rc != ODS_E_OK)
        return rc;
    return n == 1 ? ODS_E_OK : ODS_E_NOTFOUND;
}
