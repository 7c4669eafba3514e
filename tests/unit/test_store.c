/* test_store.c - the SQLite backend through store.h: URL dispatch, migrations, users
 * and lockout, assets, the launch batch (de-duplication, module checks, audit,
 * rollback, size) and persistence across reopen. Each test gets a fresh directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "scan.h"
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG_BATCH 2000

struct fixture {
    char     dir[512];
    char     path[600];
    store_t *st;
};

static void
path_in(const struct fixture *f, const char *name, char *dst, size_t n)
{
    int len = snprintf(dst, n, "%s/%s", f->dir, name);
    assert_true(len > 0 && (size_t)len < n);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    const char *err = NULL;

    assert_non_null(f);
    int len = snprintf(f->dir, sizeof(f->dir), "%s/store-XXXXXX", tmp != NULL ? tmp : "/tmp");
    assert_true(len > 0 && (size_t)len < sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    path_in(f, "odscan.db", f->path, sizeof(f->path));
    assert_int_equal(store_open(f->path, &f->st, &err), ODS_E_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    static const char *const files[] = {
        "odscan.db", "odscan.db-wal", "odscan.db-shm", "other.db", "other.db-wal", "other.db-shm",
    };
    char p[700];

    store_close(f->st);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        path_in(f, files[i], p, sizeof(p));
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
reopen(struct fixture *f)
{
    const char *err = NULL;

    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->path, &f->st, &err), ODS_E_OK);
}

/* raw_int runs a one-value query on a separate connection. */
static int64_t
raw_int(const struct fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int64_t v;

    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void
raw_exec(const struct fixture *f, const char *sql)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int64_t
epoch(store_t *st)
{
    int64_t e = -1;

    assert_int_equal(store_auth_epoch(st, &e), ODS_E_OK);
    return e;
}

static void
add_asset(store_t *st, int64_t id, unsigned modules)
{
    struct asset a = { .id = id, .modules = modules };

    snprintf(a.hostname, sizeof(a.hostname), "host-%lld", (long long)id);
    snprintf(a.os_family, sizeof(a.os_family), "linux");
    assert_int_equal(store_asset_add(st, &a), ODS_E_OK);
}

static struct launch
launch_of(int64_t asset, int scan, bool override_cpu)
{
    return (struct launch){
        .asset_id = asset, .scan_type = scan, .override_cpu = override_cpu,
        .user = "alice", .remote = "192.0.2.7", .at_ms = 1700000000000,
    };
}

/* --- open ----------------------------------------------------------------------- */

static void
test_open_dispatch(void **state)
{
    struct fixture *f = *state;
    char sqlite_url[700], plain[700], missing_dir[700];
    const struct {
        const char *url;
        int         rc;
    } cases[] = {
        { sqlite_url, ODS_E_OK },
        { plain, ODS_E_OK },
        { missing_dir, ODS_E_STORE },
        /* PostgreSQL in all three spellings; nothing listens on port 1 */
        { "postgresql://odscan@127.0.0.1:1/odscan", ODS_E_UNAVAILABLE },
        { "postgres://127.0.0.1:1/odscan", ODS_E_UNAVAILABLE },
        { "host=127.0.0.1 port=1 dbname=odscan", ODS_E_UNAVAILABLE },
        { "", ODS_E_INVAL },
    };

    assert_true(snprintf(sqlite_url, sizeof(sqlite_url), "sqlite:%s/other.db", f->dir) > 0);
    path_in(f, "other.db", plain, sizeof(plain));
    path_in(f, "no-such-dir/x.db", missing_dir, sizeof(missing_dir));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        store_t *st = (store_t *)&st;   /* must be reset to NULL on failure */
        const char *err = NULL;
        int rc = store_open(cases[i].url, &st, &err);
        if (rc != cases[i].rc)
            fail_msg("%s: got %s", cases[i].url, err_name(rc));
        if (rc == ODS_E_OK) {
            assert_non_null(st);
        } else {
            assert_null(st);
            assert_non_null(err);
            assert_true(strlen(err) > 0);
        }
        if (rc == ODS_E_UNAVAILABLE)
            assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
        store_close(rc == ODS_E_OK ? st : NULL);
    }
}

static void
test_migrations_idempotent(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(raw_int(f, "SELECT count(*) FROM schema_migrations"), 4);
    assert_int_equal(raw_int(f, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
    reopen(f);
    reopen(f);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM schema_migrations"), 4);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM profiles WHERE is_default"), 4);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM meta WHERE key = 'auth_epoch'"), 1);
    assert_int_equal(epoch(f->st), 0);
}

static void
test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    const char *err = NULL;

    raw_exec(f, "INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)");
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->path, &f->st, &err), ODS_E_STORE);
    assert_non_null(strstr(err, "newer"));
}

/* --- users ---------------------------------------------------------------------- */

static void
test_users_crud(void **state)
{
    struct fixture *f = *state;
    struct user u, *list = NULL;
    size_t n = 0;

    assert_int_equal(store_user_add(f->st, "zed", "$hash-z", ROLE_READER), ODS_E_OK);
    assert_int_equal(store_user_add(f->st, "alice", "$hash-a", ROLE_MANAGER), ODS_E_OK);
    assert_int_equal(store_user_add(f->st, "alice", "$other", ROLE_READER), ODS_E_EXISTS);
    assert_int_equal(store_user_add(f->st, "bad", "$h", ROLE_COUNT), ODS_E_INVAL);
    assert_int_equal(epoch(f->st), 0);

    assert_int_equal(store_user_get(f->st, "alice", &u), ODS_E_OK);
    assert_string_equal(u.name, "alice");
    assert_string_equal(u.pwhash, "$hash-a");
    assert_int_equal(u.role, ROLE_MANAGER);
    assert_true(u.created_ms > 0);
    assert_int_equal(store_user_get(f->st, "nobody", &u), ODS_E_NOTFOUND);

    assert_int_equal(store_user_list(f->st, &list, &n), ODS_E_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "alice");
    assert_string_equal(list[1].name, "zed");
    free(list);

    assert_int_equal(store_user_set_password(f->st, "alice", "$new"), ODS_E_OK);
    assert_int_equal(epoch(f->st), 1);
    assert_int_equal(store_user_set_role(f->st, "alice", ROLE_SCANNER), ODS_E_OK);
    assert_int_equal(epoch(f->st), 2);
    assert_int_equal(store_user_get(f->st, "alice", &u), ODS_E_OK);
    assert_string_equal(u.pwhash, "$new");
    assert_int_equal(u.role, ROLE_SCANNER);

    assert_int_equal(store_user_set_password(f->st, "nobody", "$x"), ODS_E_NOTFOUND);
    assert_int_equal(store_user_set_role(f->st, "nobody", ROLE_READER), ODS_E_NOTFOUND);
    assert_int_equal(store_user_del(f->st, "nobody"), ODS_E_NOTFOUND);
    assert_int_equal(epoch(f->st), 2);

    assert_int_equal(store_user_del(f->st, "zed"), ODS_E_OK);
    assert_int_equal(epoch(f->st), 3);
    assert_int_equal(store_user_get(f->st, "zed", &u), ODS_E_NOTFOUND);
    assert_int_equal(store_user_list(f->st, &list, &n), ODS_E_OK);
    assert_int_equal(n, 1);
    free(list);
}

/* Lockout: window 60 s, 3 failures lock for 300 s. */
static void
test_lockout_window(void **state)
{
    struct fixture *f = *state;
    const int64_t t0 = 1000000, window = 60000, lock = 300000;
    const struct {
        int64_t at;
        bool    locked;
        int     count;
    } steps[] = {
        { t0,              false, 1 },
        { t0 + 10000,      false, 2 },
        { t0 + 60000,      false, 1 },   /* window over: a new one starts */
        { t0 + 61000,      false, 2 },
        { t0 + 62000,      true,  3 },   /* third inside the window: locked */
        { t0 + 62000 + lock - 1, true, 1 },   /* still locked; a new window */
        { t0 + 62000 + lock, false, 2 },      /* the lock has run out */
    };
    struct user u;
    bool locked = false;

    assert_int_equal(store_user_add(f->st, "bob", "$h", ROLE_READER), ODS_E_OK);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        assert_int_equal(store_user_login_failed(f->st, "bob", steps[i].at, window, 3, lock,
            &locked), ODS_E_OK);
        if (locked != steps[i].locked)
            fail_msg("step %zu: locked=%d", i, locked);
        assert_int_equal(store_user_get(f->st, "bob", &u), ODS_E_OK);
        assert_int_equal(u.failed_count, steps[i].count);
    }
    assert_int_equal(u.locked_until_ms, t0 + 62000 + lock);

    assert_int_equal(store_user_login_ok(f->st, "bob"), ODS_E_OK);
    assert_int_equal(store_user_get(f->st, "bob", &u), ODS_E_OK);
    assert_int_equal(u.failed_count, 0);
    assert_int_equal(u.locked_until_ms, 0);

    /* a password change also clears the lock */
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_user_login_failed(f->st, "bob", t0 + i, window, 3, lock, NULL),
            ODS_E_OK);
    assert_int_equal(store_user_get(f->st, "bob", &u), ODS_E_OK);
    assert_int_equal(u.locked_until_ms, t0 + 2 + lock);
    assert_int_equal(store_user_set_password(f->st, "bob", "$h2"), ODS_E_OK);
    assert_int_equal(store_user_get(f->st, "bob", &u), ODS_E_OK);
    assert_int_equal(u.locked_until_ms, 0);
    assert_int_equal(u.failed_count, 0);

    assert_int_equal(store_user_login_failed(f->st, "ghost", t0, window, 3, lock, &locked),
        ODS_E_NOTFOUND);
    assert_int_equal(store_user_login_ok(f->st, "ghost"), ODS_E_NOTFOUND);
}

/* --- assets --------------------------------------------------------------------- */

static void
test_assets(void **state)
{
    struct fixture *f = *state;
    struct asset a = { .id = 19105105, .modules = MOD_VM | MOD_PC }, got, *list = NULL;
    size_t n = 0;

    snprintf(a.hostname, sizeof(a.hostname), "web-01.example.com");
    snprintf(a.os_family, sizeof(a.os_family), "linux");
    snprintf(a.agent_uuid, sizeof(a.agent_uuid), "6a1d2c3e-0000-4000-8000-000000000001");
    assert_int_equal(store_asset_add(f->st, &a), ODS_E_OK);
    assert_int_equal(store_asset_add(f->st, &a), ODS_E_EXISTS);
    add_asset(f->st, 5, MOD_NONE);
    a.id = 0;
    assert_int_equal(store_asset_add(f->st, &a), ODS_E_INVAL);

    assert_int_equal(store_asset_get(f->st, 19105105, &got), ODS_E_OK);
    assert_string_equal(got.hostname, "web-01.example.com");
    assert_string_equal(got.os_family, "linux");
    assert_string_equal(got.agent_uuid, "6a1d2c3e-0000-4000-8000-000000000001");
    assert_int_equal(got.modules, MOD_VM | MOD_PC);
    assert_true(got.created_ms > 0 && got.created_ms == got.updated_ms);
    assert_int_equal(got.last_checkin_ms, 0);
    assert_int_equal(store_asset_get(f->st, 6, &got), ODS_E_NOTFOUND);

    assert_int_equal(store_asset_list(f->st, &list, &n), ODS_E_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, 5);
    assert_string_equal(list[0].agent_uuid, "");
    assert_int_equal(list[1].id, 19105105);
    free(list);
}

/* --- launches ------------------------------------------------------------------- */

static void
test_launch_results(void **state)
{
    struct fixture *f = *state;
    struct launch items[] = {
        launch_of(404, SCAN_INVENTORY, false),          /* no such asset */
        launch_of(1, SCAN_VULNERABILITY, false),        /* VM not activated */
        launch_of(1, SCAN_INVENTORY, false),            /* new */
        launch_of(1, SCAN_INVENTORY, false),            /* same batch: reused */
        launch_of(1, SCAN_INVENTORY, true),             /* other override: new */
        launch_of(2, SCAN_VULNERABILITY, false),        /* VM activated: new */
        launch_of(1, SCAN_TYPE_COUNT, false),           /* unknown scan type */
    };
    const struct {
        int  result;
        bool existing;
        const char *code;
        const char *detail;
    } want[] = {
        { ODS_E_NOTFOUND, false, "NOT_FOUND",       "asset not found" },
        { ODS_E_PERM,     false, "INVALID_REQUEST", "module VM not activated" },
        { ODS_E_OK,       false, "SUCCESS",         "job=1" },
        { ODS_E_OK,       true,  "SUCCESS",         "job=1 existing" },
        { ODS_E_OK,       false, "SUCCESS",         "job=2" },
        { ODS_E_OK,       false, "SUCCESS",         "job=3" },
        { ODS_E_INVAL,    false, "INVALID_REQUEST", "unknown scan type" },
    };
    const size_t n = sizeof(items) / sizeof(items[0]);
    struct audit_entry *audit = NULL;
    size_t naudit = 0;
    struct job j;

    add_asset(f->st, 1, MOD_NONE);
    add_asset(f->st, 2, MOD_VM);
    assert_int_equal(store_launch_batch(f->st, items, n), ODS_E_OK);

    assert_int_equal(store_audit_list(f->st, 100, &audit, &naudit), ODS_E_OK);
    assert_int_equal(naudit, n);
    for (size_t i = 0; i < n; i++) {
        const struct audit_entry *e = &audit[n - 1 - i];   /* newest first */
        if (items[i].result != want[i].result || items[i].existing != want[i].existing)
            fail_msg("item %zu: result %s existing %d", i, err_name(items[i].result),
                items[i].existing);
        assert_string_equal(e->result, want[i].code);
        assert_string_equal(e->detail, want[i].detail);
        assert_string_equal(e->action, "launch");
        assert_string_equal(e->user, "alice");
        assert_string_equal(e->remote, "192.0.2.7");
        assert_int_equal(e->at_ms, 1700000000000);
    }
    assert_string_equal(audit[n - 1].target, "asset=404 scan=Inventory_Scan override=false");
    assert_string_equal(audit[n - 5].target, "asset=1 scan=Inventory_Scan override=true");
    assert_string_equal(audit[n - 6].target, "asset=2 scan=Vulnerability_Scan override=false");
    free(audit);

    assert_int_equal(store_job_get(f->st, items[2].job_id, &j), ODS_E_OK);
    assert_int_equal(j.asset_id, 1);
    assert_int_equal(j.scan_type, SCAN_INVENTORY);
    assert_false(j.override_cpu);
    assert_int_equal(j.state, JOB_QUEUED);
    assert_string_equal(j.requested_by, "alice");
    assert_string_equal(j.requested_from, "192.0.2.7");
    assert_int_equal(j.created_ms, 1700000000000);
    assert_int_equal(store_job_get(f->st, 99, &j), ODS_E_NOTFOUND);
}

static void
test_launch_across_batches(void **state)
{
    struct fixture *f = *state;
    struct launch first = launch_of(7, SCAN_INVENTORY, false);
    struct launch again = first;
    struct job *jobs = NULL;
    size_t n = 0;

    add_asset(f->st, 7, MOD_ALL);
    add_asset(f->st, 8, MOD_ALL);
    assert_int_equal(store_launch_batch(f->st, &first, 1), ODS_E_OK);
    assert_false(first.existing);
    assert_int_equal(store_launch_batch(f->st, &again, 1), ODS_E_OK);
    assert_true(again.existing);
    assert_int_equal(again.job_id, first.job_id);

    /* a finished job no longer counts: the next launch queues a new one */
    raw_exec(f, "UPDATE jobs SET state = 3");
    again = launch_of(7, SCAN_INVENTORY, false);
    assert_int_equal(store_launch_batch(f->st, &again, 1), ODS_E_OK);
    assert_false(again.existing);
    assert_true(again.job_id > first.job_id);

    struct launch other = launch_of(8, SCAN_SWCA, false);
    assert_int_equal(store_launch_batch(f->st, &other, 1), ODS_E_OK);
    assert_int_equal(store_job_list(f->st, 0, &jobs, &n), ODS_E_OK);
    assert_int_equal(n, 3);
    assert_int_equal(jobs[0].id, other.job_id);    /* newest first */
    free(jobs);
    assert_int_equal(store_job_list(f->st, 7, &jobs, &n), ODS_E_OK);
    assert_int_equal(n, 2);
    assert_int_equal(jobs[0].id, again.job_id);
    assert_int_equal(jobs[1].id, first.job_id);
    free(jobs);
    assert_int_equal(store_job_list(f->st, 9, &jobs, &n), ODS_E_OK);
    assert_int_equal(n, 0);
    free(jobs);
}

static void
test_launch_rollback(void **state)
{
    struct fixture *f = *state;
    struct launch items[] = {
        launch_of(1, SCAN_INVENTORY, false),
        launch_of(666, SCAN_INVENTORY, false),
    };
    struct job *jobs = NULL;
    struct audit_entry *audit = NULL;
    size_t n = 0;

    add_asset(f->st, 1, MOD_NONE);
    raw_exec(f, "CREATE TRIGGER boom BEFORE INSERT ON audit WHEN NEW.target LIKE 'asset=666 %'"
        " BEGIN SELECT RAISE(ABORT, 'boom'); END");
    assert_int_equal(store_launch_batch(f->st, items, 2), ODS_E_STORE);
    assert_int_equal(store_job_list(f->st, 0, &jobs, &n), ODS_E_OK);
    assert_int_equal(n, 0);
    free(jobs);
    assert_int_equal(store_audit_list(f->st, 10, &audit, &n), ODS_E_OK);
    assert_int_equal(n, 0);
    free(audit);

    /* the store is usable afterwards */
    assert_int_equal(store_launch_batch(f->st, items, 1), ODS_E_OK);
    assert_false(items[0].existing);
}

static void
test_launch_big_batch(void **state)
{
    struct fixture *f = *state;
    struct launch *items = calloc(BIG_BATCH, sizeof(*items));
    struct job *jobs = NULL;
    size_t n = 0;

    assert_non_null(items);
    for (int64_t a = 1; a <= 500; a++)
        add_asset(f->st, a, MOD_ALL);
    /* 500 assets x 2 scans x 2 overrides = 2,000 distinct jobs */
    for (size_t i = 0; i < BIG_BATCH; i++)
        items[i] = launch_of((int64_t)(i % 500) + 1, (i / 500) % 2 ? SCAN_SCA : SCAN_INVENTORY,
            i / 1000 == 1);
    assert_int_equal(store_launch_batch(f->st, items, BIG_BATCH), ODS_E_OK);
    for (size_t i = 0; i < BIG_BATCH; i++) {
        assert_int_equal(items[i].result, ODS_E_OK);
        assert_false(items[i].existing);
    }
    assert_int_equal(store_job_list(f->st, 0, &jobs, &n), ODS_E_OK);
    assert_int_equal(n, BIG_BATCH);
    free(jobs);

    /* the same batch again only finds existing jobs */
    assert_int_equal(store_launch_batch(f->st, items, BIG_BATCH), ODS_E_OK);
    for (size_t i = 0; i < BIG_BATCH; i++)
        assert_true(items[i].existing);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM jobs"), BIG_BATCH);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit"), 2 * BIG_BATCH);
    free(items);
}

struct worker {
    store_t *st;
    int64_t  asset;
    int      rc;
};

static void *
launch_worker(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < 50 && w->rc == ODS_E_OK; i++) {
        struct launch l = launch_of(w->asset, i % 2 ? SCAN_INVENTORY : SCAN_SCA, false);
        w->rc = store_launch_batch(w->st, &l, 1);
        if (w->rc == ODS_E_OK && l.result != ODS_E_OK)
            w->rc = l.result;
    }
    return NULL;
}

static void
test_launch_threads(void **state)
{
    struct fixture *f = *state;
    struct worker w[8];
    pthread_t t[8];

    for (int i = 0; i < 8; i++) {
        add_asset(f->st, i + 1, MOD_ALL);
        w[i] = (struct worker){ .st = f->st, .asset = i + 1, .rc = ODS_E_OK };
        assert_int_equal(pthread_create(&t[i], NULL, launch_worker, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].rc, ODS_E_OK);
    }
    assert_int_equal(raw_int(f, "SELECT count(*) FROM jobs"), 16);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit"), 400);
}

/* --- audit and persistence ------------------------------------------------------ */

static void
test_audit_add_list(void **state)
{
    struct fixture *f = *state;
    struct audit_entry e = { .at_ms = 0 }, *list = NULL;
    size_t n = 0;

    snprintf(e.action, sizeof(e.action), "login");
    for (int i = 0; i < 5; i++) {
        snprintf(e.detail, sizeof(e.detail), "n=%d", i);
        assert_int_equal(store_audit_add(f->st, &e), ODS_E_OK);
    }
    assert_int_equal(store_audit_list(f->st, 3, &list, &n), ODS_E_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].detail, "n=4");
    assert_string_equal(list[2].detail, "n=2");
    assert_true(list[0].at_ms > 0);
    assert_true(list[0].id > list[1].id);
    free(list);
}

static void
test_persistence(void **state)
{
    struct fixture *f = *state;
    struct launch l = launch_of(3, SCAN_POLICY_COMPLIANCE, true);
    struct user u;
    struct job j;

    add_asset(f->st, 3, MOD_PC);
    assert_int_equal(store_user_add(f->st, "carol", "$h", ROLE_SCANNER), ODS_E_OK);
    assert_int_equal(store_user_set_role(f->st, "carol", ROLE_READER), ODS_E_OK);
    assert_int_equal(store_launch_batch(f->st, &l, 1), ODS_E_OK);
    reopen(f);
    assert_int_equal(store_job_get(f->st, l.job_id, &j), ODS_E_OK);
    assert_int_equal(j.scan_type, SCAN_POLICY_COMPLIANCE);
    assert_true(j.override_cpu);
    assert_int_equal(store_user_get(f->st, "carol", &u), ODS_E_OK);
    assert_int_equal(u.role, ROLE_READER);
    assert_int_equal(epoch(f->st), 1);
    l.existing = false;
    assert_int_equal(store_launch_batch(f->st, &l, 1), ODS_E_OK);
    assert_true(l.existing);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockout_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_across_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_big_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_add_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
