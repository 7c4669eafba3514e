/* auth.h - HTTP Basic authentication of users: argon2id verification, a short-lived
 * cache of verified credentials, and account lockout after repeated failures. */
#ifndef ODSCAN_AUTH_H
#define ODSCAN_AUTH_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_HEADER_MAX 1024     /* longest Authorization header accepted */

struct auth_config {
    unsigned max_failures;       /* failures inside window that lock the account */
    int64_t  window_ms;
    int64_t  lock_ms;
    int64_t  cache_ttl_ms;       /* 0 disables the cache */
};

#define PRINCIPAL_SCOPE_MAX 64   /* scope tags a user may have */

struct principal {
    char    user[STORE_NAME_MAX];
    int     role;                /* enum role */
    /* The assets this user may see and act on: all (managers, and users without a
     * scope), or those carrying one of scope_tags. Loaded with the credentials, so a
     * scope change reaches the server like a role change (auth epoch). */
    bool    scope_all;
    size_t  scope_n;
    int64_t scope_tags[PRINCIPAL_SCOPE_MAX];
    /* The user's own rate and concurrency limits (0: the server's default), loaded
     * with the credentials like the scope. */
    struct user_limits limits;
};

typedef struct auth auth_t;

/* auth_new prepares an authenticator over st. Returns 0 or ODS_E_NOMEM. */
int auth_new(store_t *st, const struct auth_config *cfg, auth_t **out);
/* auth_free releases it. NULL-safe. */
void auth_free(auth_t *a);
/* auth_basic_cached answers from the cache of verified credentials only, without
 * blocking: 0 with *who filled on a hit, ODS_E_AUTH when the header is missing or
 * oversized (no verification could succeed), ODS_E_NOTFOUND when auth_basic must
 * decide (on a worker thread: it is slow). */
int auth_basic_cached(auth_t *a, const char *header, struct principal *who);
/* auth_basic checks an Authorization header value ("Basic <base64 user:password>";
 * NULL when absent). remote is the client address, for the log. Returns 0 with *who
 * filled; ODS_E_AUTH (missing, malformed or wrong credentials); ODS_E_LOCKED (too many
 * failures); ODS_E_STORE. Failures are logged here, once. May block ~0.1 s on a cache
 * miss (argon2id). */
int auth_basic(auth_t *a, const char *header, const char *remote, struct principal *who);
#define AGENT_SECRET_LEN 44        /* base64 of 32 random bytes, without NUL */

/* auth_agent checks "Bearer <agent_uuid>:<agent_secret>" against the agents table
 * (only a BLAKE2b-256 hash of the secret is stored; it is high-entropy, so a fast hash
 * is enough). Returns 0 with *out filled, ODS_E_AUTH, or ODS_E_STORE. */
int auth_agent(auth_t *a, const char *header, const char *remote, struct agent *out);
/* auth_agent_secret_new makes a fresh secret (AGENT_SECRET_LEN + 1 bytes) and the hex
 * hash to store (65 bytes). Returns 0 or ODS_E_NOMEM. */
int auth_agent_secret_new(char *secret, size_t secret_size, char hash_hex[65]);
/* auth_uuid_new writes a random (version 4) UUID, 37 bytes with NUL. */
void auth_uuid_new(char out[37]);

/* auth_refresh re-reads the store's auth epoch and empties the cache when it moved
 * (a password, role or user changed, possibly from another process). Call about once
 * a second. */
void auth_refresh(auth_t *a);

#endif
