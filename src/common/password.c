/* password.c - argon2id hashing through libsodium. Interactive limits: ~0.1 s and
 * 64 MiB per hash, which is why the server caches verified credentials. */
#include "password.h"
#include "err.h"

#include <sodium.h>

static int
sodium_ready(void)
{
    return sodium_init() < 0 ? ODS_E_NOMEM : ODS_E_OK;
}

int
password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX])
{
    if (len > PASSWORD_MAX)
        return ODS_E_TOOBIG;
    if (sodium_ready() != 0)
        return ODS_E_NOMEM;
    if (crypto_pwhash_str_alg(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ODS_E_NOMEM;
    return ODS_E_OK;
}

int
password_verify(const char *pw, size_t len, const char *hash)
{
    if (len > PASSWORD_MAX)
        return ODS_E_AUTH;
    if (sodium_ready() != 0)
        return ODS_E_NOMEM;
    return crypto_pwhash_str_verify(hash, pw, len) == 0 ? ODS_E_OK : ODS_E_AUTH;
}
