/* test_tls.c - certificate generation, reuse, refusal of half a pair, fingerprints
 * (checked against openssl when it is installed) and the certificate's contents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "tls.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOST "odscan.test"

struct fixture {
    char dir[512];
    char cert[PATH_MAX];
    char key[PATH_MAX];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/test_tls.XXXXXX", tmp != NULL ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static char *
slurp(const char *path)
{
    char *pem = NULL;

    assert_int_equal(tls_read_pem(path, &pem), ODS_E_OK);
    return pem;
}

/* ensure generates (or reuses) the pair in f->dir and returns `created`. */
static int
ensure(struct fixture *f)
{
    int created = -1;

    assert_int_equal(tls_ensure_self_signed(f->dir, HOST, f->cert, f->key,
        sizeof(f->cert), &created), ODS_E_OK);
    return created;
}

static gnutls_x509_crt_t
load_cert(const char *path)
{
    char *pem = slurp(path);
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };
    gnutls_x509_crt_t crt;

    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    free(pem);
    return crt;
}

/* run_openssl runs cmd through the shell and copies its first output line into line.
 * Returns the exit status, or -1 when openssl is not installed. */
static int
run_openssl(const char *cmd, char *line, size_t n)
{
    line[0] = '\0';
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        return -1;
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (fgets(line, (int)n, p) != NULL)
        line[strcspn(line, "\n")] = '\0';
    while (fgetc(p) != EOF)
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static void
test_generate_then_reuse(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    char tlsdir[PATH_MAX];

    assert_int_equal(ensure(f), 1);
    snprintf(tlsdir, sizeof(tlsdir), "%s/tls", f->dir);
    assert_int_equal(stat(tlsdir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(f->key, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(f->cert, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);

    char *cert1 = slurp(f->cert), *key1 = slurp(f->key);
    assert_non_null(strstr(cert1, "-----BEGIN CERTIFICATE-----"));
    assert_non_null(strstr(key1, "-----BEGIN PRIVATE KEY-----"));

    assert_int_equal(ensure(f), 0);
    char *cert2 = slurp(f->cert), *key2 = slurp(f->key);
    assert_string_equal(cert1, cert2);
    assert_string_equal(key1, key2);
    free(cert1);
    free(key1);
    free(cert2);
    free(key2);
}

static void
test_half_a_pair_is_refused(void **state)
{
    static const struct {
        const char *keep;   /* which file of a fresh pair survives */
    } cases[] = { { "cert.pem" }, { "key.pem" } };
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int created = -1;
        assert_int_equal(ensure(f), i == 0 ? 1 : 0);
        const char *gone = strcmp(cases[i].keep, "cert.pem") == 0 ? f->key : f->cert;
        char *kept = slurp(strcmp(cases[i].keep, "cert.pem") == 0 ? f->cert : f->key);
        assert_int_equal(unlink(gone), 0);
        assert_int_equal(tls_ensure_self_signed(f->dir, HOST, f->cert, f->key,
            sizeof(f->cert), &created), ODS_E_IO);
        assert_int_equal(created, 0);
        assert_int_equal(access(gone, F_OK), -1);   /* nothing guessed */
        /* Restore the pair for the next case. */
        FILE *w = fopen(gone, "w");
        assert_non_null(w);
        fputs(kept, w);
        fclose(w);
        free(kept);
    }
}

static void
test_fingerprint_matches_openssl(void **state)
{
    struct fixture *f = *state;
    char fpr[96], cmd[PATH_MAX + 64], line[256];

    ensure(f);
    char *pem = slurp(f->cert);
    assert_int_equal(tls_fingerprint_sha256(pem, fpr, sizeof(fpr)), ODS_E_OK);
    assert_int_equal(strlen(fpr), 95);
    for (size_t i = 0; i < 95; i++) {
        if (i % 3 == 2)
            assert_int_equal(fpr[i], ':');
        else
            assert_non_null(strchr("0123456789ABCDEF", fpr[i]));
    }
    assert_int_equal(tls_fingerprint_sha256(pem, fpr, 95), ODS_E_TOOBIG);
    free(pem);

    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -fingerprint -sha256 -in '%s'", f->cert);
    if (run_openssl(cmd, line, sizeof(line)) == -1)
        return;
    /* "sha256 Fingerprint=AB:CD:..." (the prefix's case varies between versions) */
    const char *eq = strchr(line, '=');
    assert_non_null(eq);
    assert_string_equal(eq + 1, fpr);
}

static void
test_fingerprint_rejects_bad_pem(void **state)
{
    static const char *cases[] = {
        "",
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    };
    char fpr[96];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(tls_fingerprint_sha256(cases[i], fpr, sizeof(fpr)), ODS_E_TLS);
}

/* has_san tells whether crt's subjectAltName holds an entry of type with value. */
static int
has_san(gnutls_x509_crt_t crt, int type, const void *value, size_t len)
{
    for (unsigned i = 0;; i++) {
        unsigned char buf[256];
        size_t n = sizeof(buf);
        int t = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &n, NULL);
        if (t < 0)
            return 0;
        if (t == type && n == len && memcmp(buf, value, len) == 0)
            return 1;
    }
}

static void
test_certificate_contents(void **state)
{
    struct fixture *f = *state;
    unsigned char v4[4], v6[16];
    unsigned status = 1, ca = 0;
    char cmd[2 * PATH_MAX + 64], line[256];

    ensure(f);
    gnutls_x509_crt_t crt = load_cert(f->cert);

    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", v4), 1);
    assert_int_equal(inet_pton(AF_INET6, "::1", v6), 1);
    assert_true(has_san(crt, GNUTLS_SAN_IPADDRESS, v4, sizeof(v4)));
    assert_true(has_san(crt, GNUTLS_SAN_IPADDRESS, v6, sizeof(v6)));
    assert_true(has_san(crt, GNUTLS_SAN_DNSNAME, "localhost", strlen("localhost")));
    assert_true(has_san(crt, GNUTLS_SAN_DNSNAME, HOST, strlen(HOST)));
    assert_false(has_san(crt, GNUTLS_SAN_DNSNAME, "127.0.0.1", strlen("127.0.0.1")));

    assert_int_equal(gnutls_x509_crt_get_version(crt), 3);
    assert_int_equal(gnutls_x509_crt_get_signature_algorithm(crt), GNUTLS_SIGN_ECDSA_SHA256);
    assert_true(gnutls_x509_crt_get_expiration_time(crt) - time(NULL) > 9L * 365 * 86400);
    assert_true(gnutls_x509_crt_get_activation_time(crt) < time(NULL));
    assert_int_equal(gnutls_x509_crt_get_basic_constraints(crt, NULL, &ca, NULL), 0);
    assert_int_equal(ca, 0);

    /* The certificate is its own trust anchor, as for curl --cacert cert.pem. */
    assert_int_equal(gnutls_x509_crt_verify(crt, &crt, 1, 0, &status), 0);
    assert_int_equal(status, 0);
    assert_int_equal(gnutls_x509_crt_check_hostname(crt, HOST), 1);
    assert_int_equal(gnutls_x509_crt_check_hostname(crt, "127.0.0.1"), 1);
    gnutls_x509_crt_deinit(crt);

    snprintf(cmd, sizeof(cmd), "openssl verify -purpose sslserver -CAfile '%s' '%s' 2>&1",
        f->cert, f->cert);
    int rc = run_openssl(cmd, line, sizeof(line));
    if (rc != -1)
        assert_int_equal(rc, 0);
}

static void
test_listen_host_as_ip(void **state)
{
    struct fixture *f = *state;
    unsigned char v4[4];
    int created = -1;

    assert_int_equal(tls_ensure_self_signed(f->dir, "192.0.2.7", f->cert, f->key,
        sizeof(f->cert), &created), ODS_E_OK);
    gnutls_x509_crt_t crt = load_cert(f->cert);
    assert_int_equal(inet_pton(AF_INET, "192.0.2.7", v4), 1);
    assert_true(has_san(crt, GNUTLS_SAN_IPADDRESS, v4, sizeof(v4)));
    assert_false(has_san(crt, GNUTLS_SAN_DNSNAME, "192.0.2.7", strlen("192.0.2.7")));
    gnutls_x509_crt_deinit(crt);
}

static void
test_read_pem_limit(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    char *out = (char *)1;

    snprintf(path, sizeof(path), "%s/big.pem", f->dir);
    FILE *w = fopen(path, "w");
    assert_non_null(w);
    for (size_t i = 0; i < 1024 * 1024 + 1; i++)
        fputc('A', w);
    fclose(w);
    assert_int_equal(tls_read_pem(path, &out), ODS_E_TOOBIG);
    assert_null(out);
    snprintf(path, sizeof(path), "%s/missing.pem", f->dir);
    assert_int_equal(tls_read_pem(path, &out), ODS_E_IO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generate_then_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_a_pair_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fingerprint_matches_openssl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fingerprint_rejects_bad_pem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_host_as_ip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_pem_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
