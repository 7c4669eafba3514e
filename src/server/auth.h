/* auth.h - HTTP Basic authentication of users: argon2id verification, a short-lived
 * cache of verified credentials, and account lockout after repeated failures. */
#ifndef ODSCAN_AUTH_H
#define ODSCAN_AUTH_H

#include "store.h"

#include <stdint.h>

#define AUTH_HEADER_MAX 1024     /* longest Authorization header accepted */

struct auth_config {
    unsigned max_failures;       /* failures inside window that lock the account */
    int64_t  window_ms;
    int64_t  lock_ms;
    int64_t  cache_ttl_ms;       /* 0 disables the cache */
};

struct principal {
    char user[STORE_NAME_MAX];
    int  role;                   /* enum role */
};

typedef struct auth auth_t;

/* auth_new prepares an authenticator over st. Returns 0 or ODS_E_NOMEM. */
int auth_new(store_t *st, const struct auth_config *cfg, auth_t **out);
/* auth_free releases it. NULL-safe. */
void auth_free(auth_t *a);
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
