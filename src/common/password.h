/* password.h - password hashing with argon2id (libsodium), for users and agent secrets. */
#ifndef ODSCAN_PASSWORD_H
#define ODSCAN_PASSWORD_H

#include <stddef.h>

#define PASSWORD_MAX      1024   /* longest password accepted, bytes */
#define PASSWORD_HASH_MAX 128    /* encoded hash, incl. NUL (libsodium's crypto_pwhash_STRBYTES) */

/* password_hash writes the encoded argon2id hash of pw (len bytes) into out
 * (PASSWORD_HASH_MAX bytes). Returns 0, ODS_E_TOOBIG or ODS_E_NOMEM. */
int password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);
/* password_verify checks pw against an encoded hash. Returns 0 or ODS_E_AUTH. */
int password_verify(const char *pw, size_t len, const char *hash);

#endif
