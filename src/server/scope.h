/* scope.h - which assets a user may see and act on. Out of scope, an asset behaves
 * exactly as if it did not exist: every endpoint answers 404 for it and leaves it out
 * of lists, counts and bulk operations. */
#ifndef ODSCAN_SCOPE_H
#define ODSCAN_SCOPE_H

#include "auth.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* scope_query restricts q to what `who` may see (sets q's scope fields). */
void scope_query(const struct principal *who, struct asset_query *q);
/* scope_asset_visible tells whether asset_id exists and is in who's scope.
 * Returns 0 (visible), ODS_E_NOTFOUND (missing or out of scope — the same answer), or
 * a store error. */
int scope_asset_visible(store_t *st, const struct principal *who, int64_t asset_id);

#endif
