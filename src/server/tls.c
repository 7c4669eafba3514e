/* tls.c - the server's certificate: read PEM files, fingerprint them, and create a
 * self-signed ECDSA P-256 certificate on first start so odscand serves HTTPS from
 * the first run without an operator-supplied certificate. */
#include "tls.h"
#include "buf.h"
#include "err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLS_PEM_MAX         (1024 * 1024)   /* largest PEM file tls_read_pem accepts */
#define TLS_SERIAL_LEN      16
#define TLS_BACKDATE_S      3600            /* tolerate clients whose clock runs behind */
#define TLS_VALIDITY_S      (3653LL * 24 * 3600)    /* ten years */
#define TLS_SAN_MAX         5               /* listen host, host name, localhost, v4, v6 */
#define TLS_HOSTNAME_MAX    256
#define TLS_FPR_LEN         95              /* 32 bytes as "AB:" * 31 + "AB" */

/* One subjectAltName entry: a DNS name (bytes without NUL) or a raw IP address. */
struct san {
    gnutls_x509_subject_alt_name_t type;
    unsigned char                  value[TLS_HOSTNAME_MAX];
    size_t                         len;
};

/* san_add appends name to the list unless an equal entry is already there. A name
 * that parses as an IPv4 or IPv6 address becomes an IP entry, anything else a DNS
 * name. Returns 0 or ODS_E_TOOBIG. */
static int
san_add(struct san *list, size_t *count, const char *name)
{
    struct san e = { .type = GNUTLS_SAN_DNSNAME };

    if (inet_pton(AF_INET, name, e.value) == 1) {
        e.type = GNUTLS_SAN_IPADDRESS;
        e.len = 4;
    } else if (inet_pton(AF_INET6, name, e.value) == 1) {
        e.type = GNUTLS_SAN_IPADDRESS;
        e.len = 16;
    } else {
        e.len = strlen(name);
        if (e.len >= sizeof(e.value))
            return ODS_E_TOOBIG;
        memcpy(e.value, name, e.len);
    }
    for (size_t i = 0; i < *count; i++)
        if (list[i].type == e.type && list[i].len == e.len &&
            memcmp(list[i].value, e.value, e.len) == 0)
            return ODS_E_OK;
    if (*count >= TLS_SAN_MAX)
        return ODS_E_TOOBIG;
    list[(*count)++] = e;
    return ODS_E_OK;
}

/* make_cert builds a self-signed certificate for key and host. Clients use it as its
 * own trust anchor (curl --cacert cert.pem). It is a plain leaf (CA:FALSE, no
 * keyCertSign): OpenSSL 3 and GnuTLS accept a self-signed leaf as an anchor, while
 * Firefox and rustls reject a CA:TRUE certificate presented by a server.
 * Caller frees *out with gnutls_x509_crt_deinit. Returns 0 or ODS_E_TLS. */
static int
make_cert(gnutls_x509_privkey_t key, const char *host, gnutls_x509_crt_t *out)
{
    gnutls_x509_crt_t crt = NULL;
    unsigned char serial[TLS_SERIAL_LEN];
    char hostname[TLS_HOSTNAME_MAX];
    struct san sans[TLS_SAN_MAX];
    size_t nsans = 0;
    time_t now = time(NULL);
    int rc = ODS_E_TLS;

    /* The machine's name is a convenience; a machine without one still gets a cert. */
    const char *names[] = { host, NULL, "localhost", "127.0.0.1", "::1" };
    if (gethostname(hostname, sizeof(hostname)) == 0 && hostname[0] != '\0') {
        hostname[sizeof(hostname) - 1] = '\0';
        names[1] = hostname;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i] != NULL && san_add(sans, &nsans, names[i]) != 0)
            goto out;

    if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
        goto out;
    /* Positive (top bit clear) and a full 16 bytes long (next bit set). */
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);

    if (gnutls_x509_crt_init(&crt) < 0)
        goto out;
    if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
        gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
        gnutls_x509_crt_set_activation_time(crt, now - TLS_BACKDATE_S) < 0 ||
        gnutls_x509_crt_set_expiration_time(crt, (time_t)(now + TLS_VALIDITY_S)) < 0 ||
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
            (unsigned)strlen(host)) < 0 ||
        gnutls_x509_crt_set_key(crt, key) < 0 ||
        gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0)
        goto out;
    for (size_t i = 0; i < nsans; i++)
        if (gnutls_x509_crt_set_subject_alt_name(crt, sans[i].type, sans[i].value,
                (unsigned)sans[i].len, GNUTLS_FSAN_APPEND) < 0)
            goto out;
    if (gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0)
        goto out;

    *out = crt;
    crt = NULL;
    rc = ODS_E_OK;
out:
    gnutls_x509_crt_deinit(crt);
    return rc;
}

/* fsync_dir makes the directory's entries (renames, new files) durable.
 * Returns 0 or ODS_E_IO with errno set. */
static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ODS_E_IO;
    int rc = fsync(fd) == 0 ? ODS_E_OK : ODS_E_IO;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* write_durably writes data to tmp (created exclusively with the given mode), fsyncs
 * it and renames it to path, so path is either absent or complete. A stale tmp from
 * an earlier crash is removed first. The directory itself is not fsync'd here.
 * Returns 0 or ODS_E_IO with errno set. */
static int
write_durably(const char *tmp, const char *path, mode_t mode, const gnutls_datum_t *data)
{
    int fd = -1;
    int rc = ODS_E_IO;
    int saved;

    if (unlink(tmp) != 0 && errno != ENOENT)
        return ODS_E_IO;
    fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0)
        return ODS_E_IO;
    if (fchmod(fd, mode) != 0)      /* the umask may have narrowed 0644 */
        goto out;
    for (size_t off = 0; off < data->size;) {
        ssize_t w = write(fd, data->data + off, data->size - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        off += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    rc = ODS_E_OK;
out:
    saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    errno = saved;
    return rc;
}

/* generate creates a key and certificate for host and stores them at key_path and
 * cert_path in dir: the key first and the certificate last, so that no crash leaves a
 * certificate without its key. Returns 0, ODS_E_IO or ODS_E_TLS. */
static int
generate(const char *dir, const char *host, const char *cert_path, const char *key_path)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t key_pem = { NULL, 0 };
    gnutls_datum_t cert_pem = { NULL, 0 };
    char key_tmp[PATH_MAX], cert_tmp[PATH_MAX];
    int kn, cn, saved;
    int rc = ODS_E_TLS;

    if (gnutls_x509_privkey_init(&key) < 0)
        goto out;
    if (gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA,
            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0) < 0)
        goto out;
    if (make_cert(key, host, &crt) != 0)
        goto out;
    if (gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
            GNUTLS_PKCS_PLAIN, &key_pem) < 0 ||
        gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem) < 0)
        goto out;

    rc = ODS_E_IO;
    kn = snprintf(key_tmp, sizeof(key_tmp), "%s/.key.pem.tmp", dir);
    cn = snprintf(cert_tmp, sizeof(cert_tmp), "%s/.cert.pem.tmp", dir);
    if (kn < 0 || (size_t)kn >= sizeof(key_tmp) || cn < 0 || (size_t)cn >= sizeof(cert_tmp))
        goto out;
    if (write_durably(key_tmp, key_path, 0600, &key_pem) != 0)
        goto out;
    if (write_durably(cert_tmp, cert_path, 0644, &cert_pem) != 0 || fsync_dir(dir) != 0) {
        /* Take the pair back out, certificate first, or the next start would
         * refuse the half pair left behind. */
        saved = errno;
        unlink(cert_path);
        unlink(key_path);
        errno = saved;
        goto out;
    }
    rc = ODS_E_OK;
out:
    saved = errno;
    gnutls_free(cert_pem.data);
    gnutls_free(key_pem.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    errno = saved;
    return rc;
}

/* file_exists sets *yes. Returns 0, or ODS_E_IO when existence cannot be told. */
static int
file_exists(const char *path, int *yes)
{
    struct stat st;

    if (stat(path, &st) == 0) {
        *yes = 1;
        return ODS_E_OK;
    }
    *yes = 0;
    return errno == ENOENT ? ODS_E_OK : ODS_E_IO;
}

int
tls_ensure_self_signed(const char *state_dir, const char *listen_host,
    char *cert_path, char *key_path, size_t n, int *created)
{
    char dir[PATH_MAX];
    int have_cert, have_key, made_dir = 0;
    int rc;

    if (created != NULL)
        *created = 0;
    if (state_dir == NULL || listen_host == NULL || listen_host[0] == '\0')
        return ODS_E_INVAL;
    int dn = snprintf(dir, sizeof(dir), "%s/tls", state_dir);
    int cn = snprintf(cert_path, n, "%s/cert.pem", dir);
    int kn = snprintf(key_path, n, "%s/key.pem", dir);
    if (dn < 0 || (size_t)dn >= sizeof(dir) || cn < 0 || (size_t)cn >= n ||
        kn < 0 || (size_t)kn >= n)
        return ODS_E_TOOBIG;

    if (mkdir(dir, 0700) == 0)
        made_dir = 1;
    else if (errno != EEXIST)
        return ODS_E_IO;
    if ((rc = file_exists(cert_path, &have_cert)) != 0 ||
        (rc = file_exists(key_path, &have_key)) != 0)
        return rc;
    if (have_cert && have_key)
        return ODS_E_OK;
    if (have_cert || have_key)
        return ODS_E_IO;

    if ((rc = generate(dir, listen_host, cert_path, key_path)) != 0)
        return rc;
    if (made_dir && fsync_dir(state_dir) != 0)
        return ODS_E_IO;
    if (created != NULL)
        *created = 1;
    return ODS_E_OK;
}

int
tls_read_pem(const char *path, char **out)
{
    struct buf b;
    char chunk[4096];
    int fd, saved;
    int rc = ODS_E_OK;

    *out = NULL;
    buf_init(&b, TLS_PEM_MAX);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ODS_E_IO;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ODS_E_IO;
            goto out;
        }
        if (r == 0)
            break;
        if ((rc = buf_append(&b, chunk, (size_t)r)) != 0)
            goto out;
    }
    if ((*out = buf_steal(&b, NULL)) == NULL)
        rc = ODS_E_NOMEM;
out:
    saved = errno;
    close(fd);
    buf_free(&b);
    errno = saved;
    return rc;
}

int
tls_fingerprint_sha256(const char *cert_pem, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    gnutls_x509_crt_t crt = NULL;
    unsigned char digest[32];
    size_t dlen = sizeof(digest);
    gnutls_datum_t pem = { (unsigned char *)cert_pem, (unsigned)strlen(cert_pem) };
    int rc = ODS_E_TLS;

    if (n < TLS_FPR_LEN + 1)
        return ODS_E_TOOBIG;
    if (gnutls_x509_crt_init(&crt) < 0)
        goto out;
    /* With PEM input GnuTLS imports the first certificate and ignores the rest. */
    if (gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0)
        goto out;
    if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &dlen) < 0 ||
        dlen != sizeof(digest))
        goto out;
    for (size_t i = 0; i < dlen; i++) {
        out[i * 3] = hex[digest[i] >> 4];
        out[i * 3 + 1] = hex[digest[i] & 0x0f];
        out[i * 3 + 2] = i + 1 < dlen ? ':' : '\0';
    }
    rc = ODS_E_OK;
out:
    gnutls_x509_crt_deinit(crt);
    return rc;
}
