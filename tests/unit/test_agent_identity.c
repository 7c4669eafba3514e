/* test_agent_identity.c - identity.json: save/load roundtrip, mode 0600, a fresh
 * state directory, and the files load refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "identity.h"
#include "statefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char dir[512];
    char state[600];
    char file[700];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    int n = snprintf(f->dir, sizeof(f->dir), "%s/identity-XXXXXX", tmp != NULL ? tmp : "/tmp");
    assert_true(n > 0 && (size_t)n < sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    n = snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
    assert_true(n > 0 && (size_t)n < sizeof(f->state));
    n = snprintf(f->file, sizeof(f->file), "%s/%s", f->state, IDENTITY_FILE);
    assert_true(n > 0 && (size_t)n < sizeof(f->file));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    unlink(f->file);
    rmdir(f->state);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static void
test_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct identity in = { .asset_id = 100001 }, back;
    struct stat st;

    assert_int_equal(snprintf(in.server, sizeof(in.server), "https://odscan.example:8443") > 0, 1);
    assert_int_equal(snprintf(in.agent_uuid, sizeof(in.agent_uuid), "0b9f3c1e-4a57-4c1b-9b1e-1b2c3d4e5f60") > 0, 1);
    assert_int_equal(snprintf(in.agent_secret, sizeof(in.agent_secret), "s3cr\"et\\") > 0, 1);

    assert_int_equal(statefile_mkdir(f->state), ODS_E_OK);
    assert_int_equal(stat(f->state, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(identity_load(f->state, &back), ODS_E_NOTFOUND);

    assert_int_equal(identity_save(f->state, &in), ODS_E_OK);
    assert_int_equal(stat(f->file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    memset(&back, 0, sizeof(back));
    assert_int_equal(identity_load(f->state, &back), ODS_E_OK);
    assert_string_equal(back.server, in.server);
    assert_int_equal(back.asset_id, in.asset_id);
    assert_string_equal(back.agent_uuid, in.agent_uuid);
    assert_string_equal(back.agent_secret, in.agent_secret);
}

static void
test_mode_despite_umask(void **state)
{
    struct fixture *f = *state;
    struct identity in = { .asset_id = 7 };
    struct stat st;
    mode_t old = umask(0);

    assert_int_equal(snprintf(in.server, sizeof(in.server), "https://s") > 0, 1);
    assert_int_equal(snprintf(in.agent_uuid, sizeof(in.agent_uuid), "u") > 0, 1);
    assert_int_equal(snprintf(in.agent_secret, sizeof(in.agent_secret), "x") > 0, 1);
    assert_int_equal(statefile_mkdir(f->state), ODS_E_OK);
    assert_int_equal(identity_save(f->state, &in), ODS_E_OK);
    umask(old);
    assert_int_equal(stat(f->file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_refused(void **state)
{
    static const struct {
        const char *text;
        int         want;
    } cases[] = {
        { "", ODS_E_PARSE },
        { "not json", ODS_E_PARSE },
        { "[]", ODS_E_PARSE },
        { "{\"server\":\"https://s\",\"agent_uuid\":\"u\",\"agent_secret\":\"x\"}", ODS_E_PARSE },
        { "{\"server\":\"https://s\",\"asset_id\":0,\"agent_uuid\":\"u\",\"agent_secret\":\"x\"}", ODS_E_PARSE },
        { "{\"server\":\"https://s\",\"asset_id\":\"1\",\"agent_uuid\":\"u\",\"agent_secret\":\"x\"}", ODS_E_PARSE },
        { "{\"server\":\"https://s\",\"asset_id\":1,\"agent_uuid\":\"u\",\"agent_secret\":\"\"}", ODS_E_PARSE },
        { "{\"server\":\"https://s\",\"asset_id\":1,\"agent_uuid\":7,\"agent_secret\":\"x\"}", ODS_E_PARSE },
        { "{\"server\":\"https://s\",\"asset_id\":1,\"agent_uuid\":\"u\",\"agent_secret\":\"x\"}", ODS_E_OK },
    };
    struct fixture *f = *state;
    struct identity id;

    assert_int_equal(statefile_mkdir(f->state), ODS_E_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(f->file, cases[i].text);
        int rc = identity_load(f->state, &id);
        if (rc != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i, rc, cases[i].want);
    }
}

static void
test_mkdir_refuses_file(void **state)
{
    struct fixture *f = *state;

    write_file(f->state, "x");
    assert_int_equal(statefile_mkdir(f->state), ODS_E_IO);
    unlink(f->state);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_despite_umask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_refuses_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
