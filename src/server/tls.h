/* tls.h - the server's certificate: load PEM files, or create a self-signed one on
 * first start. */
#ifndef ODSCAN_TLS_H
#define ODSCAN_TLS_H

#include <stddef.h>

/* tls_ensure_self_signed makes sure DIR/tls/cert.pem and DIR/tls/key.pem exist
 * (state_dir = DIR; DIR/tls is created with mode 0700). When both exist they are used
 * as they are. When neither exists, it generates an ECDSA P-256 key (file mode 0600)
 * and a self-signed certificate (0644) valid 10 years, CN = `listen_host`, whose
 * subjectAltName lists `listen_host` (an IP entry when it parses as an IPv4/IPv6
 * address, given without brackets, else a DNS name), the machine's host name,
 * "localhost", 127.0.0.1 and ::1. Both files are written durably (temp file, fsync,
 * rename, directory fsync), the key before the certificate.
 * Writes the two paths into cert_path/key_path (each of size n). *created (may be
 * NULL) tells whether new files were made.
 * Returns 0; ODS_E_INVAL for a NULL or empty argument; ODS_E_TOOBIG when a path does
 * not fit n; ODS_E_IO (errno set) on a file system error, and also when exactly one of
 * the two files exists: the pair is never guessed or half-replaced, so the caller
 * should report "DIR/tls has cert.pem without key.pem" (or the reverse); ODS_E_TLS
 * when GnuTLS fails to make the key or certificate. */
int tls_ensure_self_signed(const char *state_dir, const char *listen_host,
    char *cert_path, char *key_path, size_t n, int *created);

/* tls_read_pem reads a whole PEM file (at most 1 MiB) into a NUL-terminated string.
 * Caller frees *out; *out is NULL on failure. Returns 0, ODS_E_IO (errno set),
 * ODS_E_TOOBIG or ODS_E_NOMEM. */
int tls_read_pem(const char *path, char **out);

/* tls_fingerprint_sha256 writes the SHA-256 fingerprint of the first certificate in
 * cert_pem (its DER encoding) as colon-separated upper-case hex ("AB:CD:...", 95 chars
 * + NUL) into out (size n >= 96). Returns 0, ODS_E_TOOBIG when n < 96, or ODS_E_TLS
 * when cert_pem holds no readable certificate. */
int tls_fingerprint_sha256(const char *cert_pem, char *out, size_t n);

#endif
