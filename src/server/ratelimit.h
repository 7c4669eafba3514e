/* ratelimit.h - per-user, per-endpoint-family call rate and concurrency limits, kept in
 * memory on each node (no database write per request). */
#ifndef ODSCAN_RATELIMIT_H
#define ODSCAN_RATELIMIT_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* The endpoint families a route belongs to (a column of the route table); each has
 * its own window and concurrency count per user. */
#define RATE_FAMILY_TABLE(XX) \
    XX(OTHER, "other")         \
    XX(LAUNCH, "launch")       \
    XX(SEARCH, "search")       \
    XX(ACTIVATION, "activation") \
    XX(TAGS, "tags")           \
    XX(KEYS, "keys")           \
    XX(JOBS, "jobs")

enum rate_family {
#define XX(name, text) RATE_##name,
    RATE_FAMILY_TABLE(XX)
#undef XX
    RATE_FAMILY_COUNT
};

#define RATE_WINDOW_MAX_S  (30u * 86400)   /* longest window; longer ones are cut to it */
#define RATE_CALLS_MAX     1000000000u     /* most calls per window */
#define RATE_USERS_MAX     100000          /* (user, family) pairs tracked per node */

/* The server's defaults, used for every limit a user has no value (0) of. */
struct rate_defaults {
    unsigned calls;
    unsigned window_s;
    unsigned concurrency;
};

typedef struct ratelimit ratelimit_t;
struct rate_entry;

/* What one request was granted: the values of the X-RateLimit-* and
 * X-Concurrency-Limit-* headers, and what ratelimit_release gives back. */
struct rate_ticket {
    struct rate_entry *entry;       /* non-NULL while the request holds a concurrency slot */
    bool               known;       /* the fields below are set (headers are sent) */
    bool               admitted;
    unsigned           limit, window_s, remaining, to_wait_s;
    unsigned           concurrency, running;
};

/* ratelimit_new makes an empty limiter. Returns 0 or ODS_E_NOMEM. */
int ratelimit_new(const struct rate_defaults *d, ratelimit_t **out);
/* ratelimit_free releases it (after every request completed). NULL-safe. */
void ratelimit_free(ratelimit_t *rl);
/* ratelimit_admit decides one call of `user` in family fam at monotonic time now_ms
 * with the user's own limits (own: 0 fields mean the defaults) and fills *t. An
 * admitted call counts in the window and holds a concurrency slot until
 * ratelimit_release. A refused call (over the rate or the concurrency) counts nowhere;
 * t->to_wait_s says when to try again (at least 1). Thread-safe: one mutex per hash
 * bucket, held for a few arithmetic operations. */
void ratelimit_admit(ratelimit_t *rl, const char *user, enum rate_family fam,
    const struct user_limits *own, int64_t now_ms, struct rate_ticket *t);
/* ratelimit_release gives back the concurrency slot of an admitted call (once; a
 * ticket without one is a no-op). Any thread. */
void ratelimit_release(ratelimit_t *rl, struct rate_ticket *t);
/* rate_family_name returns "launch" etc. */
const char *rate_family_name(enum rate_family fam);

#endif
