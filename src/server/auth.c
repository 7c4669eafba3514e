/* auth.c - Basic authentication with a cache of verified credentials.
 *
 * argon2id costs ~0.1 s and 64 MiB by design, so it cannot run per request. A verified
 * Authorization header value is remembered under a keyed BLAKE2b hash of that value
 * (the key is random per process, the header itself is never stored) for
 * cache_ttl_ms, and the whole cache is emptied when the store's auth epoch moves. */
#include "auth.h"
#include "err.h"
#include "log.h"
#include "password.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_SLOTS 4096                 /* power of two */
#define CACHE_KEY_LEN 32

struct cache_slot {
    unsigned char key[CACHE_KEY_LEN];
    bool          used;
    int64_t       expires_ms;
    struct principal who;
};

struct auth {
    store_t           *store;
    struct auth_config cfg;
    unsigned char      hash_key[crypto_generichash_KEYBYTES];
    pthread_rwlock_t   lock;
    int64_t            epoch;
    struct cache_slot *slots;
    char               dummy_hash[PASSWORD_HASH_MAX];  /* equalizes unknown-user timing */
};

int
auth_new(store_t *st, const struct auth_config *cfg, auth_t **out)
{
    auth_t *a = calloc(1, sizeof(*a));
    int rc = ODS_E_NOMEM;

    if (a == NULL || sodium_init() < 0)
        goto fail;
    a->slots = calloc(CACHE_SLOTS, sizeof(*a->slots));
    if (a->slots == NULL)
        goto fail;
    a->store = st;
    a->cfg = *cfg;
    randombytes_buf(a->hash_key, sizeof(a->hash_key));
    rc = password_hash("odscan-no-such-user", 19, a->dummy_hash);
    if (rc != 0)
        goto fail;
    if (store_auth_epoch(st, &a->epoch) != 0)
        a->epoch = 0;
    pthread_rwlock_init(&a->lock, NULL);
    *out = a;
    return ODS_E_OK;
fail:
    if (a != NULL)
        free(a->slots);
    free(a);
    return rc;
}

void
auth_free(auth_t *a)
{
    if (a == NULL)
        return;
    pthread_rwlock_destroy(&a->lock);
    sodium_memzero(a->slots, CACHE_SLOTS * sizeof(*a->slots));
    free(a->slots);
    free(a);
}

static size_t
slot_index(const unsigned char key[CACHE_KEY_LEN])
{
    size_t h;

    memcpy(&h, key, sizeof(h));
    return h & (CACHE_SLOTS - 1);
}

static bool
cache_lookup(auth_t *a, const unsigned char key[CACHE_KEY_LEN], struct principal *who)
{
    bool hit = false;
    struct cache_slot *s = &a->slots[slot_index(key)];

    pthread_rwlock_rdlock(&a->lock);
    if (s->used && s->expires_ms > mono_ms() && sodium_memcmp(s->key, key, CACHE_KEY_LEN) == 0) {
        *who = s->who;
        hit = true;
    }
    pthread_rwlock_unlock(&a->lock);
    return hit;
}

static void
cache_insert(auth_t *a, const unsigned char key[CACHE_KEY_LEN], const struct principal *who,
    int64_t epoch_seen)
{
    struct cache_slot *s = &a->slots[slot_index(key)];

    pthread_rwlock_wrlock(&a->lock);
    /* A change between our read of the user and now would make this entry stale. */
    if (epoch_seen == a->epoch) {
        memcpy(s->key, key, CACHE_KEY_LEN);
        s->who = *who;
        s->expires_ms = mono_ms() + a->cfg.cache_ttl_ms;
        s->used = true;
    }
    pthread_rwlock_unlock(&a->lock);
}

/* cache_drop_user removes every entry of one user (after a lock-out). */
static void
cache_drop_user(auth_t *a, const char *user)
{
    pthread_rwlock_wrlock(&a->lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (a->slots[i].used && strcmp(a->slots[i].who.user, user) == 0)
            a->slots[i].used = false;
    pthread_rwlock_unlock(&a->lock);
}

void
auth_refresh(auth_t *a)
{
    int64_t epoch;

    if (store_auth_epoch(a->store, &epoch) != 0)
        return;
    pthread_rwlock_wrlock(&a->lock);
    if (epoch != a->epoch) {
        memset(a->slots, 0, CACHE_SLOTS * sizeof(*a->slots));
        a->epoch = epoch;
    }
    pthread_rwlock_unlock(&a->lock);
}

/* decode_basic splits "Basic base64(user:password)" into user and password inside
 * out (size n). Returns 0 or ODS_E_AUTH. */
static int
decode_basic(const char *header, char *out, size_t n, char **user, char **pw, size_t *pwlen)
{
    size_t len;

    if (strncasecmp(header, "Basic ", 6) != 0)
        return ODS_E_AUTH;
    header += 6;
    while (*header == ' ')
        header++;
    if (sodium_base642bin((unsigned char *)out, n - 1, header, strlen(header), NULL, &len,
            NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return ODS_E_AUTH;
    out[len] = '\0';
    char *colon = memchr(out, ':', len);
    if (colon == NULL || colon == out || memchr(out, '\0', len) != NULL)
        return ODS_E_AUTH;
    *colon = '\0';
    *user = out;
    *pw = colon + 1;
    *pwlen = len - (size_t)(colon + 1 - out);
    return ODS_E_OK;
}

/* principal_load fills who's scope and limits from the store. Managers see every
 * asset; a user without scope tags too. A scope longer than PRINCIPAL_SCOPE_MAX is cut
 * (which narrows, never widens, what the user sees) and logged. */
static int
principal_load(auth_t *a, const struct user *u, struct principal *who)
{
    struct tag *tags = NULL;
    size_t n = 0;
    int rc;

    memset(&who->limits, 0, sizeof(who->limits));
    who->scope_all = true;
    who->scope_n = 0;
    if ((rc = store_user_limits(a->store, u->name, &who->limits)) != 0)
        return rc;
    if (u->role == ROLE_MANAGER)
        return ODS_E_OK;
    if ((rc = store_user_scope(a->store, u->name, &tags, &n)) != 0)
        return rc;
    if (n > PRINCIPAL_SCOPE_MAX) {
        log_warn("%s: user '%s' has %zu scope tags; only the first %d count", __func__,
            u->name, n, PRINCIPAL_SCOPE_MAX);
        n = PRINCIPAL_SCOPE_MAX;
    }
    for (size_t i = 0; i < n; i++)
        who->scope_tags[i] = tags[i].id;
    who->scope_n = n;
    who->scope_all = n == 0;
    free(tags);
    return ODS_E_OK;
}

int
auth_basic_cached(auth_t *a, const char *header, struct principal *who)
{
    unsigned char key[CACHE_KEY_LEN];

    if (header == NULL || strlen(header) >= AUTH_HEADER_MAX)
        return ODS_E_AUTH;
    if (a->cfg.cache_ttl_ms == 0)
        return ODS_E_NOTFOUND;
    crypto_generichash(key, sizeof(key), (const unsigned char *)header, strlen(header),
        a->hash_key, sizeof(a->hash_key));
    return cache_lookup(a, key, who) ? ODS_E_OK : ODS_E_NOTFOUND;
}

int
auth_basic(auth_t *a, const char *header, const char *remote, struct principal *who)
{
    unsigned char key[CACHE_KEY_LEN];
    char decoded[AUTH_HEADER_MAX];
    char *user, *pw;
    size_t pwlen;
    struct user u;
    int64_t epoch_seen;
    int rc;

    if (header == NULL || strlen(header) >= AUTH_HEADER_MAX)
        return ODS_E_AUTH;
    crypto_generichash(key, sizeof(key), (const unsigned char *)header, strlen(header),
        a->hash_key, sizeof(a->hash_key));
    if (a->cfg.cache_ttl_ms > 0 && cache_lookup(a, key, who))
        return ODS_E_OK;

    if (decode_basic(header, decoded, sizeof(decoded), &user, &pw, &pwlen) != 0) {
        log_warn("%s: malformed Basic credentials from %s", __func__, remote);
        rc = ODS_E_AUTH;
        goto out;
    }
    pthread_rwlock_rdlock(&a->lock);
    epoch_seen = a->epoch;
    pthread_rwlock_unlock(&a->lock);

    rc = store_user_get(a->store, user, &u);
    if (rc == ODS_E_NOTFOUND) {
        password_verify(pw, pwlen, a->dummy_hash);
        log_warn("%s: failed login for unknown user '%s' from %s", __func__, user, remote);
        rc = ODS_E_AUTH;
        goto out;
    }
    if (rc != 0)
        goto out;
    int64_t now = now_ms();
    if (u.locked_until_ms > now) {
        log_warn("%s: login for locked user '%s' from %s refused", __func__, user, remote);
        rc = ODS_E_LOCKED;
        goto out;
    }
    if (password_verify(pw, pwlen, u.pwhash) != 0) {
        bool locked = false;
        store_user_login_failed(a->store, user, now, a->cfg.window_ms,
            (int)a->cfg.max_failures, a->cfg.lock_ms, &locked);
        log_warn("%s: failed login for user '%s' from %s%s", __func__, user, remote,
            locked ? "; account locked" : "");
        if (locked)
            cache_drop_user(a, user);
        rc = locked ? ODS_E_LOCKED : ODS_E_AUTH;
        goto out;
    }
    if (u.failed_count > 0)
        store_user_login_ok(a->store, user);
    str_copy(who->user, sizeof(who->user), u.name);
    who->role = u.role;
    if ((rc = principal_load(a, &u, who)) != 0) {
        if (rc == ODS_E_NOTFOUND)
            rc = ODS_E_AUTH;     /* deleted while we checked */
        goto out;
    }
    if (a->cfg.cache_ttl_ms > 0)
        cache_insert(a, key, who, epoch_seen);
    rc = ODS_E_OK;
out:
    sodium_memzero(decoded, sizeof(decoded));
    return rc;
}

/* secret_hash_hex writes the hex BLAKE2b-256 of secret into hex (65 bytes). */
static void
secret_hash_hex(const char *secret, size_t len, char hex[65])
{
    unsigned char h[32];

    crypto_generichash(h, sizeof(h), (const unsigned char *)secret, len, NULL, 0);
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

int
auth_agent(auth_t *a, const char *header, const char *remote, struct agent *out)
{
    char uuid[STORE_UUID_MAX];
    char hex[65];

    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
        return ODS_E_AUTH;
    const char *tok = header + 7;
    const char *colon = strchr(tok, ':');
    if (colon == NULL || (size_t)(colon - tok) >= sizeof(uuid) || strlen(colon + 1) > 256)
        return ODS_E_AUTH;
    memcpy(uuid, tok, (size_t)(colon - tok));
    uuid[colon - tok] = '\0';
    int rc = store_agent_get(a->store, uuid, out);
    if (rc == ODS_E_NOTFOUND) {
        log_warn("%s: unknown agent '%s' from %s", __func__, uuid, remote);
        return ODS_E_AUTH;
    }
    if (rc != 0)
        return rc;
    secret_hash_hex(colon + 1, strlen(colon + 1), hex);
    if (sodium_memcmp(hex, out->secret_hash, 64) != 0) {
        log_warn("%s: wrong secret for agent %s from %s", __func__, uuid, remote);
        return ODS_E_AUTH;
    }
    return ODS_E_OK;
}

int
auth_agent_secret_new(char *secret, size_t secret_size, char hash_hex[65])
{
    unsigned char raw[32];

    if (secret_size < AGENT_SECRET_LEN + 1 || sodium_init() < 0)
        return ODS_E_NOMEM;
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(secret, secret_size, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE);
    secret_hash_hex(secret, strlen(secret), hash_hex);
    sodium_memzero(raw, sizeof(raw));
    return ODS_E_OK;
}

void
auth_uuid_new(char out[37])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
        b[14], b[15]);
}
