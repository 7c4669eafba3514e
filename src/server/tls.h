/* tls.h - the server's certificate: load PEM files, or create a self-signed one on
 * first start. */
#ifndef ODSCAN_TLS_H
#define ODSCAN_TLS_H

#include <stddef.h>

/* tls_ensure_self_signed makes sure DIR/tls/cert.pem and DIR/tls/key.pem exist
 * (state_dir = DIR). When missing, it generates an ECDSA P-256 key (file mode 0600) and
 * a self-signed certificate valid 10 years whose subjectAltName lists `listen_host`
 * (as IP or DNS name), the machine's host name, "localhost", 127.0.0.1 and ::1.
 * Writes the two paths into cert_path/key_path (each of size n). *created (may be
 * NULL) tells whether new files were made. Returns 0, ODS_E_IO or ODS_E_TLS. */
int tls_ensure_self_signed(const char *state_dir, const char *listen_host,
    char *cert_path, char *key_path, size_t n, int *created);

/* tls_read_pem reads a whole PEM file (at most 1 MiB) into a NUL-terminated string.
 * Caller frees *out. Returns 0, ODS_E_IO or ODS_E_TOOBIG. */
int tls_read_pem(const char *path, char **out);

/* tls_fingerprint_sha256 writes the SHA-256 fingerprint of the first certificate in
 * cert_pem as colon-separated upper-case hex ("AB:CD:...", 95 chars + NUL) into out
 * (size n >= 96). Returns 0 or ODS_E_TLS. */
int tls_fingerprint_sha256(const char *cert_pem, char *out, size_t n);

#endif
