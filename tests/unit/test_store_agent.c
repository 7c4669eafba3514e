/* test_store_agent.c - the agent half of store.h on the SQLite backend: migrating a v1
 * database, activation keys and enrollment, profiles, and the job's life through
 * store_apply (check-in, claim, start, heartbeat, finish), the sweep and the stored
 * documents. Each test gets a fresh directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "scan.h"
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0        1700000000000LL      /* a fixed "now" for the job's life */
#define LEASE_MS  300000
#define FIRST_ID  100001

struct fixture {
    char     dir[512];
    char     path[600];
    store_t *st;
};

/* The schema as the previous release (migration 1) left it. */
static const char v1_schema[] =
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER);"
    "INSERT INTO schema_migrations VALUES (1, 0);"
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  pwhash TEXT NOT NULL, role INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    "  failed_count INTEGER NOT NULL DEFAULT 0, failed_since_ms INTEGER NOT NULL DEFAULT 0,"
    "  locked_until_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE assets (id INTEGER PRIMARY KEY, agent_uuid TEXT UNIQUE,"
    "  hostname TEXT NOT NULL, os_family TEXT NOT NULL, modules INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    "  last_checkin_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  asset_id INTEGER NOT NULL REFERENCES assets(id), scan_type INTEGER NOT NULL,"
    "  override_cpu INTEGER NOT NULL, state INTEGER NOT NULL, requested_by TEXT NOT NULL,"
    "  requested_from TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX jobs_active ON jobs(asset_id, scan_type, override_cpu)"
    "  WHERE state IN (0, 1, 2);"
    "CREATE INDEX jobs_asset ON jobs(asset_id, id);"
    "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,"
    "  user TEXT NOT NULL, remote TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
    "  result TEXT NOT NULL, detail TEXT NOT NULL);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
    "INSERT INTO meta(key, value) VALUES ('auth_epoch', 0);"
    "INSERT INTO assets VALUES (5, NULL, 'old-host', 'windows', 1, 10, 10, 0);"
    "INSERT INTO jobs VALUES (1, 5, 0, 0, 0, 'alice', '192.0.2.1', 20, 20);";

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
    int len = snprintf(f->dir, sizeof(f->dir), "%s/store-agent-XXXXXX",
        tmp != NULL ? tmp : "/tmp");
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
    static const char *const files[] = { "odscan.db", "odscan.db-wal", "odscan.db-shm" };
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

    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
        NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void
add_asset(store_t *st, int64_t id, const char *os)
{
    struct asset a = { .id = id, .modules = MOD_ALL };

    snprintf(a.hostname, sizeof(a.hostname), "host-%lld", (long long)id);
    snprintf(a.os_family, sizeof(a.os_family), "%s", os);
    assert_int_equal(store_asset_add(st, &a), ODS_E_OK);
}

static struct actkey
key_of(const char *token, const char *name, int max_uses, int64_t expires_ms)
{
    struct actkey k = { .modules = MOD_VM | MOD_PC, .max_uses = max_uses,
        .expires_ms = expires_ms };

    snprintf(k.token, sizeof(k.token), "%s", token);
    snprintf(k.name, sizeof(k.name), "%s", name);
    return k;
}

static struct enrollment
enrollment_of(const char *token, const char *uuid)
{
    return (struct enrollment){
        .key_token = token, .uuid = uuid, .secret_hash = "ab12", .hostname = "web1",
        .fqdn = "web1.example.com", .os_family = "linux", .os_name = "Debian GNU/Linux",
        .os_version = "12", .arch = "x86_64", .machine_id = "m-1", .agent_version = "0.1.0",
        .remote = "192.0.2.9", .now_ms = T0,
    };
}

static struct store_op
op_launch(int64_t asset, int scan)
{
    struct store_op op = { .kind = STORE_OP_LAUNCH };

    op.u.launch = (struct launch){ .asset_id = asset, .scan_type = scan, .user = "alice",
        .remote = "192.0.2.7", .at_ms = T0 };
    return op;
}

static struct store_op
op_claim(int64_t asset, int64_t now, unsigned max_jobs, unsigned busy)
{
    struct store_op op = { .kind = STORE_OP_CLAIM };

    op.u.claim = (struct claim){ .asset_id = asset, .now_ms = now, .lease_ms = LEASE_MS,
        .max_jobs = max_jobs, .busy_types = busy };
    return op;
}

static struct store_op
op_update(enum store_op_kind kind, int64_t asset, int64_t job, int64_t now)
{
    struct store_op op = { .kind = kind };

    op.u.update = (struct job_update){ .asset_id = asset, .job_id = job, .now_ms = now,
        .lease_ms = LEASE_MS, .cpu_applied = "limit=20 throttle=0",
        .final_state = JOB_COMPLETED };
    return op;
}

/* apply1 runs one operation in its own batch and returns its per-op result. */
static int
apply1(store_t *st, struct store_op *op)
{
    assert_int_equal(store_apply(st, op, 1), ODS_E_OK);
    return op->result;
}

static int64_t
launch(store_t *st, int64_t asset, int scan)
{
    struct store_op op = op_launch(asset, scan);

    assert_int_equal(apply1(st, &op), ODS_E_OK);
    return op.u.launch.job_id;
}

static struct job
job(store_t *st, int64_t id)
{
    struct job j;

    assert_int_equal(store_job_get(st, id, &j), ODS_E_OK);
    return j;
}

/* dispatched launches a job and hands it out; returns its id. */
static int64_t
dispatched(store_t *st, int64_t asset, int scan, int64_t now)
{
    int64_t id = launch(st, asset, scan);
    struct store_op op = op_claim(asset, now, 1, 0);

    assert_int_equal(apply1(st, &op), ODS_E_OK);
    assert_int_equal(op.u.claim.n, 1);
    assert_int_equal(op.u.claim.jobs[0].id, id);
    return id;
}

static int
finish(store_t *st, int64_t asset, int64_t id, int state, const char *doc, bool *dup)
{
    struct store_op op = op_update(STORE_OP_JOB_FINISH, asset, id, T0 + 5000);

    op.u.update.final_state = state;
    op.u.update.reason = "scanner crashed";
    op.u.update.result_json = doc;
    op.u.update.result_len = doc != NULL ? strlen(doc) : 0;
    int rc = apply1(st, &op);
    if (dup != NULL)
        *dup = op.u.update.duplicate;
    return rc;
}

/* --- migration ----------------------------------------------------------------------- */

static void
test_migrate_v1_database(void **state)
{
    struct fixture *f = *state;
    const char *err = NULL;
    struct asset a;
    struct profile p;
    struct job j;

    /* replace the fresh database by one the previous release made */
    static const char *const files[] = { "odscan.db", "odscan.db-wal", "odscan.db-shm" };
    char p0[700];
    store_close(f->st);
    f->st = NULL;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        path_in(f, files[i], p0, sizeof(p0));
        unlink(p0);
    }
    raw_exec(f, v1_schema);

    assert_int_equal(store_open(f->path, &f->st, &err), ODS_E_OK);
    assert_int_equal(raw_int(f, "SELECT max(version) FROM schema_migrations"), 4);
    assert_int_equal(store_asset_get(f->st, 5, &a), ODS_E_OK);
    assert_string_equal(a.hostname, "old-host");
    assert_string_equal(a.fqdn, "");
    assert_int_equal(a.profile_id, 0);
    assert_int_equal(a.key_id, 0);
    j = job(f->st, 1);
    assert_int_equal(j.state, JOB_QUEUED);
    assert_int_equal(j.attempts, 0);
    assert_int_equal(j.dispatched_ms, 0);
    assert_string_equal(j.reason, "");
    /* the old windows asset gets the windows default, which throttles */
    assert_int_equal(store_profile_for_asset(f->st, 5, &p), ODS_E_OK);
    assert_string_equal(p.name, "windows-default");
    assert_int_equal(p.cpu_throttle, 100);

    /* reopening applies nothing twice */
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(store_open(f->path, &f->st, &err), ODS_E_OK);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM schema_migrations"), 4);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM profiles"), 4);
}

static void
test_default_profiles(void **state)
{
    struct fixture *f = *state;
    const struct {
        const char *name, *os;
        int         throttle;
    } want[] = {
        { "linux-default", "linux", 0 }, { "windows-default", "windows", 100 },
        { "macos-default", "macos", 0 }, { "unix-default", "unix", 0 },
    };
    struct profile *ps = NULL;
    size_t n = 0;

    assert_int_equal(store_profile_list(f->st, &ps, &n), ODS_E_OK);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ps[i].name, want[i].name);
        assert_string_equal(ps[i].os_family, want[i].os);
        assert_true(ps[i].is_default);
        assert_int_equal(ps[i].cpu_limit, 100);
        assert_int_equal(ps[i].cpu_throttle, want[i].throttle);
        assert_int_equal(ps[i].checkin_hold_s, 60);
        assert_int_equal(ps[i].lease_s, 300);
        assert_int_equal(ps[i].max_concurrent, 1);
    }
    free(ps);
}

/* --- keys and enrollment -------------------------------------------------------------- */

static void
test_enroll(void **state)
{
    struct fixture *f = *state;
    struct actkey k = key_of("tok-1", "lab", 2, 0), *keys = NULL;
    struct enrollment e = enrollment_of("tok-1", "11111111-1111-4111-8111-111111111111");
    struct asset a, got;
    struct agent ag;
    struct profile p;
    const char *why = "unset";
    size_t n = 0;

    assert_int_equal(store_key_add(f->st, &k), ODS_E_OK);
    assert_true(k.id > 0);
    assert_int_equal(k.uses, 0);
    assert_int_equal(store_enroll(f->st, &e, &a, &why), ODS_E_OK);
    assert_null(why);
    assert_int_equal(a.id, FIRST_ID);
    assert_int_equal(a.modules, MOD_VM | MOD_PC);
    assert_int_equal(a.key_id, k.id);
    assert_int_equal(store_asset_get(f->st, a.id, &got), ODS_E_OK);
    assert_string_equal(got.agent_uuid, e.uuid);
    assert_string_equal(got.hostname, "web1");
    assert_string_equal(got.fqdn, "web1.example.com");
    assert_string_equal(got.os_name, "Debian GNU/Linux");
    assert_string_equal(got.os_version, "12");
    assert_string_equal(got.arch, "x86_64");
    assert_string_equal(got.machine_id, "m-1");
    assert_string_equal(got.agent_version, "0.1.0");
    assert_string_equal(got.last_address, "192.0.2.9");
    assert_int_equal(got.profile_id, 0);
    assert_int_equal(got.created_ms, T0);
    assert_int_equal(store_profile_for_asset(f->st, a.id, &p), ODS_E_OK);
    assert_string_equal(p.name, "linux-default");

    assert_int_equal(store_agent_get(f->st, e.uuid, &ag), ODS_E_OK);
    assert_int_equal(ag.asset_id, a.id);
    assert_string_equal(ag.secret_hash, "ab12");
    assert_int_equal(ag.enrolled_ms, T0);
    assert_int_equal(store_agent_get(f->st, "nope", &ag), ODS_E_NOTFOUND);

    /* the same UUID twice is refused, and the refused try uses nothing up */
    assert_int_equal(store_enroll(f->st, &e, &a, NULL), ODS_E_EXISTS);
    assert_int_equal(store_key_list(f->st, &keys, &n), ODS_E_OK);
    assert_int_equal(n, 1);
    assert_int_equal(keys[0].uses, 1);
    free(keys);

    /* ids continue above the largest, whoever made it */
    add_asset(f->st, 200000, "linux");
    e.uuid = "22222222-2222-4222-8222-222222222222";
    assert_int_equal(store_enroll(f->st, &e, &a, NULL), ODS_E_OK);
    assert_int_equal(a.id, 200001);

    /* max_uses 2 is now reached */
    e.uuid = "33333333-3333-4333-8333-333333333333";
    assert_int_equal(store_enroll(f->st, &e, &a, &why), ODS_E_PERM);
    assert_string_equal(why, "activation key has no uses left");
    assert_int_equal(raw_int(f, "SELECT uses FROM actkeys"), 2);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM agents"), 2);
}

static void
test_enroll_refusals(void **state)
{
    struct fixture *f = *state;
    struct actkey keys[] = {
        key_of("revoked", "", 0, 0), key_of("expired", "", 0, T0),
        key_of("used", "", 1, 0), key_of("later", "", 0, T0 + 1),
    };
    const struct {
        const char *token;
        int         rc;
        const char *why;
    } cases[] = {
        { "unknown", ODS_E_NOTFOUND, "activation key unknown" },
        { "revoked", ODS_E_PERM, "activation key revoked" },
        { "expired", ODS_E_PERM, "activation key expired" },   /* now == expires_ms */
        { "used", ODS_E_PERM, "activation key has no uses left" },
        { "later", ODS_E_OK, NULL },
    };
    struct asset a;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_int_equal(store_key_add(f->st, &keys[i]), ODS_E_OK);
    assert_int_equal(store_key_revoke(f->st, "revoked"), ODS_E_OK);
    raw_exec(f, "UPDATE actkeys SET uses = 1 WHERE token = 'used'");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct enrollment e = enrollment_of(cases[i].token, cases[i].token);
        const char *why = NULL;
        int rc = store_enroll(f->st, &e, &a, &why);
        if (rc != cases[i].rc)
            fail_msg("%s: got %s", cases[i].token, err_name(rc));
        if (cases[i].why != NULL)
            assert_string_equal(why, cases[i].why);
        else
            assert_null(why);
    }
    assert_int_equal(raw_int(f, "SELECT count(*) FROM assets"), 1);
    assert_int_equal(raw_int(f, "SELECT sum(uses) FROM actkeys"), 2);   /* used + later */
}

static void
test_keys(void **state)
{
    struct fixture *f = *state;
    struct actkey a = key_of("tok-a", "alpha", 0, 0), b = key_of("tok-b", "", 5, T0);
    struct actkey dup = key_of("tok-a", "other", 0, 0), *keys = NULL;
    struct actkey empty = key_of("", "x", 0, 0);
    size_t n = 0;

    assert_int_equal(store_key_add(f->st, &a), ODS_E_OK);
    assert_int_equal(store_key_add(f->st, &b), ODS_E_OK);
    assert_int_equal(store_key_add(f->st, &dup), ODS_E_EXISTS);
    assert_int_equal(store_key_add(f->st, &empty), ODS_E_INVAL);
    assert_int_equal(store_key_revoke(f->st, "alpha"), ODS_E_OK);      /* by name */
    assert_int_equal(store_key_revoke(f->st, "tok-b"), ODS_E_OK);      /* by token */
    assert_int_equal(store_key_revoke(f->st, "nope"), ODS_E_NOTFOUND);
    assert_int_equal(store_key_revoke(f->st, ""), ODS_E_NOTFOUND);     /* no name matches "" */
    assert_int_equal(store_key_list(f->st, &keys, &n), ODS_E_OK);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0].token, "tok-a");
    assert_string_equal(keys[0].name, "alpha");
    assert_true(keys[0].revoked);
    assert_int_equal(keys[1].max_uses, 5);
    assert_int_equal(keys[1].expires_ms, T0);
    assert_int_equal(keys[1].modules, MOD_VM | MOD_PC);
    assert_true(keys[1].revoked);
    assert_true(keys[1].created_ms > 0);
    free(keys);
}

/* --- profiles --------------------------------------------------------------------------- */

static void
test_profile_ranges(void **state)
{
    struct fixture *f = *state;
    const struct {
        int cpu_limit, cpu_throttle, hold, lease, maxc, rc;
    } cases[] = {
        { 100, 0, 60, 300, 1, ODS_E_OK },
        { 2, 1000, 1, 10, SCAN_TYPE_COUNT, ODS_E_OK },
        { 1, 0, 60, 300, 1, ODS_E_INVAL },
        { 101, 0, 60, 300, 1, ODS_E_INVAL },
        { 50, -1, 60, 300, 1, ODS_E_INVAL },
        { 50, 1001, 60, 300, 1, ODS_E_INVAL },
        { 50, 0, 0, 300, 1, ODS_E_INVAL },
        { 50, 0, 601, 300, 1, ODS_E_INVAL },
        { 50, 0, 60, 9, 1, ODS_E_INVAL },
        { 50, 0, 60, 86401, 1, ODS_E_INVAL },
        { 50, 0, 60, 300, 0, ODS_E_INVAL },
        { 50, 0, 60, 300, SCAN_TYPE_COUNT + 1, ODS_E_INVAL },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct profile p = { .cpu_limit = cases[i].cpu_limit,
            .cpu_throttle = cases[i].cpu_throttle, .checkin_hold_s = cases[i].hold,
            .lease_s = cases[i].lease, .max_concurrent = cases[i].maxc };
        snprintf(p.name, sizeof(p.name), "p%zu", i);
        int rc = store_profile_add(f->st, &p);
        if (rc != cases[i].rc)
            fail_msg("case %zu: got %s", i, err_name(rc));
        if (rc == ODS_E_OK)
            assert_true(p.id > 4);
    }
    struct profile again = { .cpu_limit = 100, .checkin_hold_s = 60, .lease_s = 300,
        .max_concurrent = 1 };
    snprintf(again.name, sizeof(again.name), "p0");
    assert_int_equal(store_profile_add(f->st, &again), ODS_E_EXISTS);
    again.name[0] = '\0';
    assert_int_equal(store_profile_add(f->st, &again), ODS_E_INVAL);
}

static void
test_profile_in_force(void **state)
{
    struct fixture *f = *state;
    struct profile slow = { .name = "slow", .cpu_limit = 20, .cpu_throttle = 5,
        .checkin_hold_s = 30, .lease_s = 600, .max_concurrent = 2 }, p;
    struct asset a;

    add_asset(f->st, 1, "linux");
    add_asset(f->st, 2, "windows");
    add_asset(f->st, 3, "beos");
    add_asset(f->st, 4, "macos");
    assert_int_equal(store_profile_add(f->st, &slow), ODS_E_OK);

    const struct {
        int64_t     asset;
        const char *name;
        int         throttle;
    } before[] = {
        { 1, "linux-default", 0 }, { 2, "windows-default", 100 },
        { 3, "linux-default", 0 }, { 4, "macos-default", 0 },
    };
    for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
        assert_int_equal(store_profile_for_asset(f->st, before[i].asset, &p), ODS_E_OK);
        assert_string_equal(p.name, before[i].name);
        assert_int_equal(p.cpu_throttle, before[i].throttle);
    }

    assert_int_equal(store_profile_assign(f->st, 2, "slow"), ODS_E_OK);
    assert_int_equal(store_profile_assign(f->st, 2, "nope"), ODS_E_NOTFOUND);
    assert_int_equal(store_profile_assign(f->st, 99, "slow"), ODS_E_NOTFOUND);
    assert_int_equal(store_profile_for_asset(f->st, 2, &p), ODS_E_OK);
    assert_string_equal(p.name, "slow");
    assert_int_equal(p.cpu_limit, 20);
    assert_int_equal(p.max_concurrent, 2);
    assert_int_equal(store_asset_get(f->st, 2, &a), ODS_E_OK);
    assert_int_equal(a.profile_id, slow.id);
    assert_int_equal(store_profile_for_asset(f->st, 99, &p), ODS_E_NOTFOUND);
    assert_int_equal(store_profile_get(f->st, "slow", &p), ODS_E_OK);
    assert_int_equal(p.lease_s, 600);
    assert_int_equal(store_profile_get(f->st, "nope", &p), ODS_E_NOTFOUND);
}

/* --- the job's life ----------------------------------------------------------------------- */

static void
test_checkin(void **state)
{
    struct fixture *f = *state;
    struct store_op op = { .kind = STORE_OP_CHECKIN };
    struct asset a;

    add_asset(f->st, 1, "linux");
    op.u.checkin = (struct checkin){ .asset_id = 1, .now_ms = T0, .agent_version = "0.2.0",
        .remote = "198.51.100.4" };
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(store_asset_get(f->st, 1, &a), ODS_E_OK);
    assert_int_equal(a.last_checkin_ms, T0);
    assert_string_equal(a.agent_version, "0.2.0");
    assert_string_equal(a.last_address, "198.51.100.4");

    /* NULL keeps what was there */
    op.u.checkin = (struct checkin){ .asset_id = 1, .now_ms = T0 + 1 };
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(store_asset_get(f->st, 1, &a), ODS_E_OK);
    assert_int_equal(a.last_checkin_ms, T0 + 1);
    assert_string_equal(a.agent_version, "0.2.0");

    op.u.checkin.asset_id = 2;
    assert_int_equal(apply1(f->st, &op), ODS_E_NOTFOUND);
}

static void
test_claim(void **state)
{
    struct fixture *f = *state;
    int64_t inv, vuln, pc, inv2;
    struct store_op op;
    struct job j;

    add_asset(f->st, 1, "linux");
    add_asset(f->st, 2, "linux");
    inv = launch(f->st, 1, SCAN_INVENTORY);
    vuln = launch(f->st, 1, SCAN_VULNERABILITY);
    pc = launch(f->st, 1, SCAN_POLICY_COMPLIANCE);
    struct store_op ov = op_launch(1, SCAN_INVENTORY);
    ov.u.launch.override_cpu = true;
    assert_int_equal(apply1(f->st, &ov), ODS_E_OK);
    inv2 = ov.u.launch.job_id;
    launch(f->st, 2, SCAN_INVENTORY);

    /* max_jobs 1: the oldest only */
    op = op_claim(1, T0, 1, 0);
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(op.u.claim.n, 1);
    assert_int_equal(op.u.claim.jobs[0].id, inv);
    assert_int_equal(op.u.claim.jobs[0].state, JOB_DISPATCHED);
    assert_int_equal(op.u.claim.jobs[0].dispatched_ms, T0);
    assert_int_equal(op.u.claim.jobs[0].lease_deadline_ms, T0 + LEASE_MS);
    assert_int_equal(op.u.claim.jobs[0].attempts, 1);

    /* Inventory runs: the other Inventory job waits; VM and PC go, oldest first */
    op = op_claim(1, T0 + 1, STORE_CLAIM_MAX, 1u << SCAN_INVENTORY);
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(op.u.claim.n, 2);
    assert_int_equal(op.u.claim.jobs[0].id, vuln);
    assert_int_equal(op.u.claim.jobs[1].id, pc);
    j = job(f->st, inv2);
    assert_int_equal(j.state, JOB_QUEUED);

    /* nothing left that may go; asset 2's job is never handed to asset 1 */
    op = op_claim(1, T0 + 2, STORE_CLAIM_MAX, 1u << SCAN_INVENTORY);
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(op.u.claim.n, 0);

    /* with no Inventory running, only one of the two Inventory jobs may go at once */
    op = op_claim(1, T0 + 3, STORE_CLAIM_MAX, 0);
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(op.u.claim.n, 1);
    assert_int_equal(op.u.claim.jobs[0].id, inv2);

    op = op_claim(99, T0, 1, 0);
    assert_int_equal(apply1(f->st, &op), ODS_E_NOTFOUND);
    assert_int_equal(op.u.claim.n, 0);
}

static void
test_job_transitions(void **state)
{
    struct fixture *f = *state;
    struct store_op op;
    struct job j;
    bool dup = false;
    char *doc = NULL;
    size_t len = 0;
    char reason[400];

    add_asset(f->st, 1, "linux");
    add_asset(f->st, 2, "linux");
    int64_t queued = dispatched(f->st, 1, SCAN_VULNERABILITY, T0);   /* DISPATCHED now */
    int64_t waiting = launch(f->st, 1, SCAN_INVENTORY);
    assert_int_equal(job(f->st, waiting).state, JOB_QUEUED);

    /* START: QUEUED is refused, another asset's job is not found */
    op = op_update(STORE_OP_JOB_START, 1, waiting, T0 + 10);
    assert_int_equal(apply1(f->st, &op), ODS_E_BUSY);
    op = op_update(STORE_OP_JOB_START, 2, queued, T0 + 10);
    assert_int_equal(apply1(f->st, &op), ODS_E_NOTFOUND);
    op = op_update(STORE_OP_JOB_START, 1, 999, T0 + 10);
    assert_int_equal(apply1(f->st, &op), ODS_E_NOTFOUND);
    op = op_update(STORE_OP_JOB_START, 1, queued, T0 + 10);
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(op.u.update.scan_type, SCAN_VULNERABILITY);
    j = job(f->st, queued);
    assert_int_equal(j.state, JOB_RUNNING);
    assert_int_equal(j.started_ms, T0 + 10);
    assert_int_equal(j.lease_deadline_ms, T0 + 10 + LEASE_MS);
    assert_string_equal(j.cpu_applied, "limit=20 throttle=0");
    /* START again is idempotent and keeps the first start time */
    op = op_update(STORE_OP_JOB_START, 1, queued, T0 + 20);
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(job(f->st, queued).started_ms, T0 + 10);

    /* HEARTBEAT renews; not for QUEUED, not for another asset */
    op = op_update(STORE_OP_JOB_HEARTBEAT, 1, queued, T0 + 1000);
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(job(f->st, queued).lease_deadline_ms, T0 + 1000 + LEASE_MS);
    op = op_update(STORE_OP_JOB_HEARTBEAT, 1, waiting, T0 + 1000);
    assert_int_equal(apply1(f->st, &op), ODS_E_BUSY);
    op = op_update(STORE_OP_JOB_HEARTBEAT, 2, queued, T0 + 1000);
    assert_int_equal(apply1(f->st, &op), ODS_E_NOTFOUND);

    /* FINISH: another asset cannot, the owner can once; the second is a duplicate */
    assert_int_equal(finish(f->st, 2, queued, JOB_COMPLETED, "{\"x\":1}", NULL), ODS_E_NOTFOUND);
    assert_int_equal(finish(f->st, 1, queued, JOB_COMPLETED, "{\"x\":1}", &dup), ODS_E_OK);
    assert_false(dup);
    j = job(f->st, queued);
    assert_int_equal(j.state, JOB_COMPLETED);
    assert_int_equal(j.finished_ms, T0 + 5000);
    assert_int_equal(j.lease_deadline_ms, 0);
    assert_int_equal(finish(f->st, 1, queued, JOB_FAILED, "{\"x\":2}", &dup), ODS_E_OK);
    assert_true(dup);
    assert_int_equal(job(f->st, queued).state, JOB_COMPLETED);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM job_results"), 1);
    assert_int_equal(store_result_get(f->st, queued, &doc, &len), ODS_E_OK);
    assert_string_equal(doc, "{\"x\":1}");
    assert_int_equal(len, 7);
    free(doc);
    assert_int_equal(store_result_get(f->st, waiting, &doc, &len), ODS_E_NOTFOUND);
    assert_null(doc);
    /* a Vulnerability_Scan result is no inventory */
    assert_int_equal(store_inventory_get(f->st, 1, &doc, &len, NULL, NULL), ODS_E_NOTFOUND);

    /* after the finish, START and HEARTBEAT are refused */
    op = op_update(STORE_OP_JOB_START, 1, queued, T0 + 6000);
    assert_int_equal(apply1(f->st, &op), ODS_E_BUSY);
    op = op_update(STORE_OP_JOB_HEARTBEAT, 1, queued, T0 + 6000);
    assert_int_equal(apply1(f->st, &op), ODS_E_BUSY);

    /* FAILED from QUEUED (lease ran out, the agent finished anyway); long reason cut */
    struct store_op fo = op_update(STORE_OP_JOB_FINISH, 1, waiting, T0 + 7000);
    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    fo.u.update.final_state = JOB_FAILED;
    fo.u.update.reason = reason;
    assert_int_equal(apply1(f->st, &fo), ODS_E_OK);
    j = job(f->st, waiting);
    assert_int_equal(j.state, JOB_FAILED);
    assert_int_equal(strlen(j.reason), STORE_TEXT_MAX - 1);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM job_results"), 1);

    /* a final state that is no final state */
    int64_t other = launch(f->st, 1, SCAN_INVENTORY);
    fo = op_update(STORE_OP_JOB_FINISH, 1, other, T0);
    fo.u.update.final_state = JOB_RUNNING;
    assert_int_equal(apply1(f->st, &fo), ODS_E_INVAL);
    assert_int_equal(job(f->st, other).state, JOB_QUEUED);
}

static void
test_inventory(void **state)
{
    struct fixture *f = *state;
    int64_t at[4];
    size_t n = 0, len = 0;
    int64_t job_id = 0, collected = 0;
    char *doc = NULL;

    add_asset(f->st, 1, "linux");
    assert_int_equal(store_inventory_history(f->st, 1, at, 4, &n), ODS_E_OK);
    assert_int_equal(n, 0);
    int64_t first = dispatched(f->st, 1, SCAN_INVENTORY, T0);
    assert_int_equal(finish(f->st, 1, first, JOB_COMPLETED, "{\"packages\":[]}", NULL), ODS_E_OK);
    raw_exec(f, "UPDATE inventory_history SET at_ms = at_ms - 1000");
    int64_t second = dispatched(f->st, 1, SCAN_INVENTORY, T0);
    assert_int_equal(finish(f->st, 1, second, JOB_COMPLETED, "{\"packages\":[1]}", NULL),
        ODS_E_OK);
    /* a failed Inventory_Scan changes neither */
    int64_t third = dispatched(f->st, 1, SCAN_INVENTORY, T0);
    assert_int_equal(finish(f->st, 1, third, JOB_FAILED, NULL, NULL), ODS_E_OK);

    assert_int_equal(store_inventory_get(f->st, 1, &doc, &len, &job_id, &collected), ODS_E_OK);
    assert_string_equal(doc, "{\"packages\":[1]}");
    assert_int_equal(len, strlen(doc));
    assert_int_equal(job_id, second);
    assert_int_equal(collected, T0 + 5000);
    free(doc);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM inventory"), 1);

    assert_int_equal(store_inventory_history(f->st, 1, at, 4, &n), ODS_E_OK);
    assert_int_equal(n, 2);
    assert_int_equal(at[0], T0 + 5000);
    assert_int_equal(at[1], T0 + 4000);
    assert_int_equal(store_inventory_history(f->st, 1, at, 1, &n), ODS_E_OK);
    assert_int_equal(n, 1);
    assert_int_equal(at[0], T0 + 5000);
}

static void
test_big_document(void **state)
{
    struct fixture *f = *state;
    size_t big = 16u << 20;
    char *doc = malloc(big + 2), *back = NULL;
    size_t len = 0;

    assert_non_null(doc);
    add_asset(f->st, 1, "linux");
    memset(doc, ' ', big + 1);
    doc[0] = '{';
    doc[big - 1] = '}';
    doc[big + 1] = '\0';

    int64_t id = dispatched(f->st, 1, SCAN_INVENTORY, T0);
    struct store_op op = op_update(STORE_OP_JOB_FINISH, 1, id, T0);
    op.u.update.result_json = doc;
    op.u.update.result_len = big + 1;
    assert_int_equal(apply1(f->st, &op), ODS_E_TOOBIG);
    assert_int_equal(job(f->st, id).state, JOB_DISPATCHED);
    op.u.update.result_len = big;
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    assert_int_equal(store_result_get(f->st, id, &back, &len), ODS_E_OK);
    assert_int_equal(len, big);
    assert_memory_equal(back, doc, big);
    free(back);
    free(doc);
}

static void
test_sweep(void **state)
{
    struct fixture *f = *state;
    int64_t assets[4] = { 0 };
    size_t requeued = 9, expired = 9, n = 9;

    add_asset(f->st, 1, "linux");
    add_asset(f->st, 2, "linux");
    add_asset(f->st, 3, "linux");
    int64_t a = dispatched(f->st, 1, SCAN_INVENTORY, T0);
    int64_t b = dispatched(f->st, 2, SCAN_INVENTORY, T0);
    struct store_op op = op_update(STORE_OP_JOB_START, 2, b, T0 + 100);
    assert_int_equal(apply1(f->st, &op), ODS_E_OK);
    int64_t fresh = dispatched(f->st, 3, SCAN_INVENTORY, T0 + LEASE_MS);   /* lease still on */
    int64_t old = launch(f->st, 3, SCAN_VULNERABILITY);
    raw_exec(f, "UPDATE jobs SET created_ms = 1000 WHERE scan_type = 1");

    assert_int_equal(store_jobs_sweep(f->st, T0 + LEASE_MS + 100, 60000, &requeued, &expired,
        assets, 4, &n), ODS_E_OK);
    assert_int_equal(requeued, 2);
    assert_int_equal(expired, 1);
    assert_int_equal(n, 2);
    assert_true((assets[0] == 1 && assets[1] == 2) || (assets[0] == 2 && assets[1] == 1));

    struct job j = job(f->st, a);
    assert_int_equal(j.state, JOB_QUEUED);
    assert_int_equal(j.lease_deadline_ms, 0);
    assert_int_equal(job(f->st, b).state, JOB_QUEUED);
    assert_int_equal(job(f->st, fresh).state, JOB_DISPATCHED);
    j = job(f->st, old);
    assert_int_equal(j.state, JOB_EXPIRED);
    assert_string_equal(j.reason, "not picked up in time");
    assert_int_equal(j.finished_ms, T0 + LEASE_MS + 100);

    /* handed out again: a second attempt */
    struct store_op cl = op_claim(1, T0 + LEASE_MS + 200, 1, 0);
    assert_int_equal(apply1(f->st, &cl), ODS_E_OK);
    assert_int_equal(cl.u.claim.n, 1);
    assert_int_equal(cl.u.claim.jobs[0].attempts, 2);
    /* a requeued job may still be finished by the agent that had it; an expired not */
    assert_int_equal(finish(f->st, 2, b, JOB_COMPLETED, "{}", NULL), ODS_E_OK);
    assert_int_equal(finish(f->st, 3, old, JOB_COMPLETED, "{}", NULL), ODS_E_BUSY);

    /* cap 1 and NULL counters */
    raw_exec(f, "UPDATE jobs SET lease_deadline_ms = 1 WHERE state = 1");
    assert_int_equal(store_jobs_sweep(f->st, T0 * 2, T0 * 10, NULL, NULL, assets, 1, &n),
        ODS_E_OK);
    assert_int_equal(n, 1);
}

static void
test_apply_mixed_batch(void **state)
{
    struct fixture *f = *state;
    struct store_op ops[5];
    struct job *jobs = NULL;
    size_t n = 0;

    add_asset(f->st, 1, "linux");
    struct asset none = { .id = 2, .hostname = "bare", .os_family = "linux" };
    assert_int_equal(store_asset_add(f->st, &none), ODS_E_OK);
    ops[0] = op_launch(1, SCAN_INVENTORY);
    ops[1] = op_launch(2, SCAN_VULNERABILITY);      /* module VM missing */
    ops[2] = (struct store_op){ .kind = STORE_OP_CHECKIN };
    ops[2].u.checkin = (struct checkin){ .asset_id = 1, .now_ms = T0, .agent_version = "1" };
    ops[3] = op_claim(1, T0, 1, 0);                  /* sees the launch of ops[0] */
    ops[4] = op_launch(1, SCAN_INVENTORY);          /* identical and active: existing */
    assert_int_equal(store_apply(f->st, ops, 5), ODS_E_OK);
    assert_int_equal(ops[0].result, ODS_E_OK);
    assert_int_equal(ops[1].result, ODS_E_PERM);
    assert_int_equal(ops[2].result, ODS_E_OK);
    assert_int_equal(ops[3].result, ODS_E_OK);
    assert_int_equal(ops[3].u.claim.n, 1);
    assert_int_equal(ops[3].u.claim.jobs[0].id, ops[0].u.launch.job_id);
    assert_true(ops[4].u.launch.existing);
    assert_int_equal(ops[4].u.launch.job_id, ops[0].u.launch.job_id);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit"), 3);

    /* a failing statement rolls the whole batch back */
    raw_exec(f, "CREATE TRIGGER boom BEFORE UPDATE OF last_checkin_ms ON assets"
        " BEGIN SELECT RAISE(ABORT, 'boom'); END");
    ops[0] = op_launch(1, SCAN_POLICY_COMPLIANCE);
    assert_int_equal(store_apply(f->st, ops, 3), ODS_E_STORE);
    assert_int_equal(store_job_list(f->st, 0, &jobs, &n), ODS_E_OK);
    assert_int_equal(n, 1);
    free(jobs);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM audit"), 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_v1_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enroll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enroll_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_in_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inventory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_mixed_batch, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
