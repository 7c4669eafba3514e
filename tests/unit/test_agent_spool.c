/* test_agent_spool.c - the result spool: put/get roundtrip, oldest-first listing,
 * removal, and crash leftovers (temp files, foreign names) being ignored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char dir[512];
    char spool[600];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    int n = snprintf(f->dir, sizeof(f->dir), "%s/spool-XXXXXX", tmp != NULL ? tmp : "/tmp");
    assert_true(n > 0 && (size_t)n < sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    n = snprintf(f->spool, sizeof(f->spool), "%s/%s", f->dir, SPOOL_DIR_NAME);
    assert_true(n > 0 && (size_t)n < sizeof(f->spool));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->spool);
    struct dirent *de;

    while (d != NULL && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
            unlinkat(dirfd(d), de->d_name, 0);
    if (d != NULL)
        closedir(d);
    rmdir(f->spool);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* set_age gives a spooled entry a modification time `age` seconds in the past. */
static void
set_age(const struct fixture *f, const char *name, time_t age)
{
    struct timespec ts[2];
    char path[700];

    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= age;
    ts[0].tv_nsec = 0;   /* equal ages tie exactly, so the id decides */
    ts[1] = ts[0];
    int n = snprintf(path, sizeof(path), "%s/%s", f->spool, name);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
touch(const struct fixture *f, const char *name)
{
    char path[700];
    int n = snprintf(path, sizeof(path), "%s/%s", f->spool, name);

    assert_true(n > 0 && (size_t)n < sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"partial", 9), 9);
    close(fd);
}

static void
test_empty_and_missing(void **state)
{
    struct fixture *f = *state;
    uint64_t *ids = (uint64_t *)1;
    size_t n = 99;
    char *body = NULL;

    assert_int_equal(spool_list(f->spool, &ids, &n), ODS_E_OK);
    assert_null(ids);
    assert_int_equal(n, 0);
    assert_int_equal(spool_get(f->spool, 5, &body, NULL), ODS_E_NOTFOUND);
    assert_int_equal(spool_remove(f->spool, 5), ODS_E_OK);
}

static void
test_put_get_remove(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"status\":\"FAILED\",\"reason\":\"x\"}";
    char *back = NULL;
    size_t len = 0;
    struct stat st;
    char path[700];

    assert_int_equal(spool_put(f->spool, 42, body, strlen(body)), ODS_E_OK);
    assert_int_equal(spool_get(f->spool, 42, &back, &len), ODS_E_OK);
    assert_int_equal(len, strlen(body));
    assert_string_equal(back, body);
    free(back);
    int m = snprintf(path, sizeof(path), "%s/42.json", f->spool);
    assert_true(m > 0 && (size_t)m < sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A second put replaces the first. */
    assert_int_equal(spool_put(f->spool, 42, "{}", 2), ODS_E_OK);
    assert_int_equal(spool_get(f->spool, 42, &back, &len), ODS_E_OK);
    assert_string_equal(back, "{}");
    free(back);
    assert_int_equal(spool_remove(f->spool, 42), ODS_E_OK);
    assert_int_equal(spool_get(f->spool, 42, &back, &len), ODS_E_NOTFOUND);
}

static void
test_oldest_first_ignoring_leftovers(void **state)
{
    static const struct {
        uint64_t id;
        time_t   age;
    } entries[] = {
        { 7, 30 }, { 3, 10 }, { 12, 50 }, { 9, 10 }, { 100, 0 },
    };
    static const uint64_t want[] = { 12, 7, 3, 9, 100 };
    struct fixture *f = *state;
    uint64_t *ids = NULL;
    size_t n = 0;

    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        char name[32];
        assert_int_equal(spool_put(f->spool, entries[i].id, "{}", 2), ODS_E_OK);
        int len = snprintf(name, sizeof(name), "%llu.json", (unsigned long long)entries[i].id);
        assert_true(len > 0 && (size_t)len < sizeof(name));
        set_age(f, name, entries[i].age);
    }
    /* What a crash in the middle of spool_put leaves, and things that are not ours. */
    touch(f, "55.json.tmp");
    touch(f, "notes.txt");
    touch(f, "x1.json");
    touch(f, ".json");
    set_age(f, "55.json.tmp", 100);

    assert_int_equal(spool_list(f->spool, &ids, &n), ODS_E_OK);
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++)
        if (ids[i] != want[i])
            fail_msg("position %zu: id %llu, want %llu", i, (unsigned long long)ids[i],
                (unsigned long long)want[i]);
    free(ids);

    assert_int_equal(spool_remove(f->spool, 12), ODS_E_OK);
    assert_int_equal(spool_list(f->spool, &ids, &n), ODS_E_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ids[0], 7);
    free(ids);
}

static void
test_too_big(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(spool_put(f->spool, 1, "", SPOOL_BODY_MAX + 1), ODS_E_TOOBIG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_get_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_first_ignoring_leftovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
