/* test_store_pg.c - what the PostgreSQL backend adds to store.h's semantics when several
 * nodes share a database: migrations applied by two nodes at once, the launch dedupe
 * race, claims that never hand a job out twice, enrollment ids, the sweep, job events
 * through LISTEN/NOTIFY, finish idempotence, and ODS_E_UNAVAILABLE. Each test gets a
 * fresh database on the cluster named by ODS_PG_URL_FILE; without it every test skips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "scan.h"
#include "store.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NODES     2          /* store handles playing two servers */
#define T0        1700000000000LL
#define LEASE_MS  300000
#define ROUNDS    40         /* concurrent operations per race */

struct fixture {
    char     url[600];       /* the test's own database */
    store_t *node[NODES];
};

static char cluster_url[512];

static PGconn *
admin(const char *url)
{
    PGconn *pg = PQconnectdb(url);

    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("connect %s: %s", url, PQerrorMessage(pg));
    return pg;
}

static long long
sql_int(const char *url, const char *sql)
{
    PGconn *pg = admin(url);
    PGresult *res = PQexec(pg, sql);
    long long v;

    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(pg);
    return v;
}

static void
sql_exec(const char *url, const char *sql)
{
    PGconn *pg = admin(url);
    PGresult *res = PQexec(pg, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
}

/* new_database creates an empty database and writes its URL into url. */
static void
new_database(char *url, size_t n)
{
    static atomic_int seq;
    char name[64], sql[128];
    const char *slash = strrchr(cluster_url, '/');

    assert_non_null(slash);
    assert_true(snprintf(name, sizeof(name), "unit_%d_%d", (int)getpid(),
        atomic_fetch_add(&seq, 1)) < (int)sizeof(name));
    assert_true(snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name) < (int)sizeof(sql));
    sql_exec(cluster_url, sql);
    assert_true(snprintf(url, n, "%.*s/%s", (int)(slash - cluster_url), cluster_url, name) <
        (int)n);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *err = NULL;

    assert_non_null(f);
    new_database(f->url, sizeof(f->url));
    for (int i = 0; i < NODES; i++)
        if (store_open(f->url, &f->node[i], &err) != ODS_E_OK)
            fail_msg("store_open: %s", err);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    for (int i = 0; i < NODES; i++)
        store_close(f->node[i]);
    free(f);
    return 0;
}

static void
add_asset(store_t *st, int64_t id, unsigned modules)
{
    struct asset a = { .id = id, .modules = modules };

    snprintf(a.hostname, sizeof(a.hostname), "host-%lld", (long long)id);
    snprintf(a.os_family, sizeof(a.os_family), "linux");
    assert_int_equal(store_asset_add(st, &a), ODS_E_OK);
}

/* --- migrations ------------------------------------------------------------------- */

struct opener {
    const char *url;
    int         rc;
    store_t    *st;
};

static void *
open_one(void *arg)
{
    struct opener *o = arg;

    o->rc = store_open(o->url, &o->st, NULL);
    return NULL;
}

static void
test_migrations_two_nodes_at_once(void **state)
{
    char url[600];
    struct opener o[4];
    pthread_t t[4];

    (void)state;
    new_database(url, sizeof(url));
    for (int i = 0; i < 4; i++) {
        o[i] = (struct opener){ .url = url };
        assert_int_equal(pthread_create(&t[i], NULL, open_one, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(o[i].rc, ODS_E_OK);
        store_close(o[i].st);
    }
    assert_int_equal(sql_int(url, "SELECT count(*) FROM schema_migrations"), STORE_SCHEMA_VERSION);
    assert_int_equal(sql_int(url, "SELECT count(*) FROM profiles WHERE is_default <> 0"), 4);
    assert_int_equal(sql_int(url, "SELECT count(*) FROM meta WHERE key = 'auth_epoch'"), 1);

    /* a newer schema is refused */
    const char *err = NULL;
    store_t *st = NULL;
    sql_exec(url, "INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)");
    assert_int_equal(store_open(url, &st, &err), ODS_E_STORE);
    assert_null(st);
    assert_non_null(strstr(err, "newer"));
}

static void
test_unreachable(void **state)
{
    const char *err = NULL;
    store_t *st = NULL;

    (void)state;
    assert_int_equal(store_open("postgresql://odscan@127.0.0.1:1/x", &st, &err),
        ODS_E_UNAVAILABLE);
    assert_null(st);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
}

/* --- launches: the dedupe race ------------------------------------------------------ */

struct launcher {
    store_t      *st;
    int64_t       asset;
    struct launch l[ROUNDS];
    int           rc;
};

static void *
launch_all(void *arg)
{
    struct launcher *w = arg;

    w->rc = ODS_E_OK;
    for (int i = 0; i < ROUNDS && w->rc == ODS_E_OK; i++) {
        /* one item per asset and scan: the other node launches the same ones */
        w->l[i] = (struct launch){ .asset_id = w->asset + i % 4, .scan_type = SCAN_INVENTORY,
            .override_cpu = (i / 4) % 2, .user = "alice", .remote = "127.0.0.1", .at_ms = T0 };
        w->rc = store_launch_batch(w->st, &w->l[i], 1);
    }
    return NULL;
}

static void
test_launch_dedupe_across_nodes(void **state)
{
    struct fixture *f = *state;
    struct launcher w[NODES];
    pthread_t t[NODES];

    for (int64_t a = 1; a <= 4; a++)
        add_asset(f->node[0], a, 0);
    for (int i = 0; i < NODES; i++) {
        w[i] = (struct launcher){ .st = f->node[i], .asset = 1 };
        assert_int_equal(pthread_create(&t[i], NULL, launch_all, &w[i]), 0);
    }
    for (int i = 0; i < NODES; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, ODS_E_OK);
    }
    /* 4 assets x 2 flags: 8 jobs; every launch points at the job of its combination */
    assert_int_equal(sql_int(f->url, "SELECT count(*) FROM jobs"), 8);
    for (int i = 0; i < NODES; i++) {
        for (int k = 0; k < ROUNDS; k++) {
            struct job j;
            assert_int_equal(w[i].l[k].result, ODS_E_OK);
            assert_int_equal(store_job_get(f->node[0], w[i].l[k].job_id, &j), ODS_E_OK);
            assert_int_equal(j.asset_id, w[i].l[k].asset_id);
            assert_int_equal(j.override_cpu, w[i].l[k].override_cpu);
        }
    }
    /* every launch was audited */
    assert_int_equal(sql_int(f->url, "SELECT count(*) FROM audit"), NODES * ROUNDS);
}

static void
test_launch_results(void **state)
{
    struct fixture *f = *state;
    struct launch l[3] = {
        { .asset_id = 9, .scan_type = SCAN_INVENTORY, .user = "u", .remote = "r", .at_ms = T0 },
        { .asset_id = 10, .scan_type = SCAN_VULNERABILITY, .user = "u", .remote = "r", .at_ms = T0 },
        { .asset_id = 10, .scan_type = 99, .user = "u", .remote = "r", .at_ms = T0 },
    };

    add_asset(f->node[0], 10, 0);
    assert_int_equal(store_launch_batch(f->node[1], l, 3), ODS_E_OK);
    assert_int_equal(l[0].result, ODS_E_NOTFOUND);
    assert_int_equal(l[1].result, ODS_E_PERM);
    assert_int_equal(l[2].result, ODS_E_INVAL);
    assert_int_equal(sql_int(f->url, "SELECT count(*) FROM jobs"), 0);
    assert_int_equal(sql_int(f->url, "SELECT count(*) FROM audit"), 3);
}

/* --- claims: never handed out twice ------------------------------------------------- */

struct claimer {
    store_t *st;
    int64_t  got[64];
    size_t   n;
    int      rc;
};

static void *
claim_all(void *arg)
{
    struct claimer *w = arg;

    w->rc = ODS_E_OK;
    for (int round = 0; round < ROUNDS && w->rc == ODS_E_OK; round++) {
        struct store_op op = { .kind = STORE_OP_CLAIM };
        op.u.claim = (struct claim){ .asset_id = 1, .now_ms = T0, .lease_ms = LEASE_MS,
            .max_jobs = 1 };
        w->rc = store_apply(w->st, &op, 1);
        for (size_t i = 0; w->rc == ODS_E_OK && i < op.u.claim.n && w->n < 64; i++)
            w->got[w->n++] = op.u.claim.jobs[i].id;
    }
    return NULL;
}

static void
test_claims_across_nodes(void **state)
{
    struct fixture *f = *state;
    struct claimer w[NODES * 2];
    pthread_t t[NODES * 2];
    size_t total = 0;

    add_asset(f->node[0], 1, 0xff);
    for (int s = 0; s < SCAN_TYPE_COUNT; s++) {
        for (int o = 0; o < 2; o++) {
            struct launch l = { .asset_id = 1, .scan_type = s, .override_cpu = o,
                .user = "u", .remote = "r", .at_ms = T0 };
            assert_int_equal(store_launch_batch(f->node[0], &l, 1), ODS_E_OK);
            assert_int_equal(l.result, ODS_E_OK);
        }
    }
    for (int i = 0; i < NODES * 2; i++) {
        w[i] = (struct claimer){ .st = f->node[i % NODES] };
        assert_int_equal(pthread_create(&t[i], NULL, claim_all, &w[i]), 0);
    }
    for (int i = 0; i < NODES * 2; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, ODS_E_OK);
        total += w[i].n;
    }
    assert_int_equal(total, SCAN_TYPE_COUNT * 2);
    assert_int_equal(sql_int(f->url, "SELECT count(*) FROM jobs WHERE state = 1 AND attempts = 1"),
        SCAN_TYPE_COUNT * 2);
}

/* --- the job's life ------------------------------------------------------------------ */

static int64_t
one_job(store_t *st, int64_t asset)
{
    struct launch l = { .asset_id = asset, .scan_type = SCAN_INVENTORY, .user = "u",
        .remote = "r", .at_ms = T0 };

    assert_int_equal(store_launch_batch(st, &l, 1), ODS_E_OK);
    assert_int_equal(l.result, ODS_E_OK);
    return l.job_id;
}

static void
test_finish_idempotent(void **state)
{
    struct fixture *f = *state;
    const char doc[] = "{\"packages\":[\"\xc3\xa9t\xc3\xa9\"]}";
    struct store_op op = { .kind = STORE_OP_CLAIM };
    char *json = NULL;
    size_t len = 0;
    int64_t job_id = 0, at[4];
    size_t n = 0;

    add_asset(f->node[0], 3, 0);
    int64_t id = one_job(f->node[0], 3);
    op.u.claim = (struct claim){ .asset_id = 3, .now_ms = T0, .lease_ms = LEASE_MS,
        .max_jobs = 1 };
    assert_int_equal(store_apply(f->node[1], &op, 1), ODS_E_OK);
    assert_int_equal(op.u.claim.n, 1);
    for (int i = 0; i < 2; i++) {
        struct store_op fin = { .kind = STORE_OP_JOB_FINISH };
        fin.u.update = (struct job_update){ .asset_id = 3, .job_id = id, .now_ms = T0 + 1000 + i,
            .final_state = JOB_COMPLETED, .result_json = doc, .result_len = strlen(doc) };
        assert_int_equal(store_apply(f->node[i % NODES], &fin, 1), ODS_E_OK);
        assert_int_equal(fin.result, ODS_E_OK);
        assert_int_equal(fin.u.update.duplicate, i == 1);
    }
    assert_int_equal(store_result_get(f->node[0], id, &json, &len), ODS_E_OK);
    assert_int_equal(len, strlen(doc));
    assert_memory_equal(json, doc, len);
    free(json);
    assert_int_equal(store_inventory_get(f->node[1], 3, &json, &len, &job_id, NULL), ODS_E_OK);
    assert_string_equal(json, doc);
    assert_int_equal(job_id, id);
    free(json);
    assert_int_equal(store_inventory_history(f->node[0], 3, at, 4, &n), ODS_E_OK);
    assert_int_equal(n, 1);

    /* a job of another asset is not found; an unfinished state is refused */
    struct store_op bad = { .kind = STORE_OP_JOB_START };
    bad.u.update = (struct job_update){ .asset_id = 4, .job_id = id, .now_ms = T0 };
    assert_int_equal(store_apply(f->node[0], &bad, 1), ODS_E_OK);
    assert_int_equal(bad.result, ODS_E_NOTFOUND);
    bad.u.update.asset_id = 3;
    assert_int_equal(store_apply(f->node[0], &bad, 1), ODS_E_OK);
    assert_int_equal(bad.result, ODS_E_BUSY);
}

/* Job events: what the watcher of node 1 saw. */
struct events {
    pthread_mutex_t lock;
    int64_t         seen[16];
    size_t          n;
};

static void
on_event(void *ctx, int64_t asset_id)
{
    struct events *e = ctx;

    pthread_mutex_lock(&e->lock);
    if (e->n < 16)
        e->seen[e->n++] = asset_id;
    pthread_mutex_unlock(&e->lock);
}

static bool
saw(struct events *e, int64_t asset_id)
{
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&e->lock);
        for (size_t k = 0; k < e->n; k++) {
            if (e->seen[k] == asset_id) {
                pthread_mutex_unlock(&e->lock);
                return true;
            }
        }
        pthread_mutex_unlock(&e->lock);
        usleep(10000);
    }
    return false;
}

static void
test_sweep_and_events(void **state)
{
    struct fixture *f = *state;
    struct events ev = { .lock = PTHREAD_MUTEX_INITIALIZER };
    struct store_op op = { .kind = STORE_OP_CLAIM };
    size_t requeued = 0, expired = 0, nassets = 0;
    int64_t assets[4];
    struct job j;

    assert_int_equal(store_watch_jobs(f->node[1], on_event, &ev), ODS_E_OK);
    add_asset(f->node[0], 5, 0);
    add_asset(f->node[0], 6, 0);
    int64_t id = one_job(f->node[0], 5);
    assert_true(saw(&ev, 5));            /* a launch on node 0 reaches node 1 */
    int64_t old = one_job(f->node[0], 6);
    sql_exec(f->url, "UPDATE jobs SET created_ms = 0 WHERE asset_id = 6");
    op.u.claim = (struct claim){ .asset_id = 5, .now_ms = T0, .lease_ms = LEASE_MS,
        .max_jobs = 1 };
    assert_int_equal(store_apply(f->node[0], &op, 1), ODS_E_OK);
    assert_int_equal(op.u.claim.n, 1);

    pthread_mutex_lock(&ev.lock);
    ev.n = 0;
    pthread_mutex_unlock(&ev.lock);
    assert_int_equal(store_jobs_sweep(f->node[0], T0 + LEASE_MS, 1000000, &requeued, &expired,
        assets, 4, &nassets), ODS_E_OK);
    assert_int_equal(requeued, 1);
    assert_int_equal(expired, 1);
    assert_int_equal(nassets, 1);
    assert_int_equal(assets[0], 5);
    assert_true(saw(&ev, 5));            /* a requeue is announced too */
    assert_int_equal(store_job_get(f->node[1], id, &j), ODS_E_OK);
    assert_int_equal(j.state, JOB_QUEUED);
    assert_int_equal(j.lease_deadline_ms, 0);
    assert_int_equal(store_job_get(f->node[1], old, &j), ODS_E_OK);
    assert_int_equal(j.state, JOB_EXPIRED);
    assert_string_equal(j.reason, "not picked up in time");
}

/* --- enrollment ------------------------------------------------------------------------ */

struct enroller {
    store_t *st;
    int      base;
    int64_t  ids[ROUNDS / 2];
    int      rc;
};

static void *
enroll_all(void *arg)
{
    struct enroller *w = arg;

    w->rc = ODS_E_OK;
    for (int i = 0; i < ROUNDS / 2 && w->rc == ODS_E_OK; i++) {
        char uuid[40];
        struct asset a;
        snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012d", w->base + i);
        struct enrollment e = { .key_token = "tok", .uuid = uuid, .secret_hash = "ab",
            .hostname = "h", .os_family = "linux", .remote = "127.0.0.1", .now_ms = T0 };
        w->rc = store_enroll(w->st, &e, &a, NULL);
        w->ids[i] = a.id;
    }
    return NULL;
}

static void
test_enroll_across_nodes(void **state)
{
    struct fixture *f = *state;
    struct actkey k = { .max_uses = ROUNDS };
    struct enroller w[NODES];
    pthread_t t[NODES];
    const char *why = NULL;
    struct asset a;

    snprintf(k.token, sizeof(k.token), "tok");
    assert_int_equal(store_key_add(f->node[0], &k), ODS_E_OK);
    assert_int_equal(store_key_add(f->node[1], &k), ODS_E_EXISTS);
    for (int i = 0; i < NODES; i++) {
        w[i] = (struct enroller){ .st = f->node[i], .base = i * 1000 };
        assert_int_equal(pthread_create(&t[i], NULL, enroll_all, &w[i]), 0);
    }
    for (int i = 0; i < NODES; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, ODS_E_OK);
    }
    assert_int_equal(sql_int(f->url, "SELECT min(id) FROM assets"), 100001);
    assert_int_equal(sql_int(f->url, "SELECT max(id) FROM assets"), 100000 + ROUNDS);
    assert_int_equal(sql_int(f->url, "SELECT uses FROM actkeys"), ROUNDS);
    /* used up, on either node */
    struct enrollment e = { .key_token = "tok", .uuid = "x", .secret_hash = "ab",
        .hostname = "h", .os_family = "linux", .now_ms = T0 };
    assert_int_equal(store_enroll(f->node[1], &e, &a, &why), ODS_E_PERM);
    assert_string_equal(why, "activation key has no uses left");
}

/* --- users and the auth epoch -------------------------------------------------------- */

static void
test_users_and_epoch(void **state)
{
    struct fixture *f = *state;
    int64_t e0 = -1, e1 = -1;
    struct user *list = NULL;
    size_t n = 0;
    bool locked = false;

    assert_int_equal(store_auth_epoch(f->node[1], &e0), ODS_E_OK);
    assert_int_equal(store_user_add(f->node[0], "bob", "h1", ROLE_READER), ODS_E_OK);
    assert_int_equal(store_user_add(f->node[1], "bob", "h1", ROLE_READER), ODS_E_EXISTS);
    assert_int_equal(store_user_add(f->node[1], "Al\xff", "h1", ROLE_READER), ODS_E_OK);
    assert_int_equal(store_user_set_role(f->node[0], "bob", ROLE_MANAGER), ODS_E_OK);
    assert_int_equal(store_user_set_password(f->node[0], "nobody", "h"), ODS_E_NOTFOUND);
    assert_int_equal(store_auth_epoch(f->node[1], &e1), ODS_E_OK);
    assert_int_equal(e1, e0 + 1);    /* seen by the other node */
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_user_login_failed(f->node[i % NODES], "bob", T0 + i, 60000, 3,
            60000, &locked), ODS_E_OK);
    assert_true(locked);
    assert_int_equal(store_user_list(f->node[1], &list, &n), ODS_E_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "Al?");   /* byte order; invalid UTF-8 replaced */
    assert_string_equal(list[1].name, "bob");
    assert_int_equal(list[1].role, ROLE_MANAGER);
    assert_int_equal(list[1].failed_count, 3);
    free(list);
}

int
main(void)
{
    const char *file = getenv("ODS_PG_URL_FILE");
    FILE *fp = file != NULL ? fopen(file, "r") : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations_two_nodes_at_once),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test_setup_teardown(test_launch_dedupe_across_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_launch_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_across_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_and_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enroll_across_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_and_epoch, setup, teardown),
    };

    if (fp == NULL || fgets(cluster_url, sizeof(cluster_url), fp) == NULL) {
        if (fp != NULL)
            fclose(fp);
        printf("ok - skipped: needs PostgreSQL (ODS_PG_URL_FILE)\n");
        return 0;
    }
    fclose(fp);
    cluster_url[strcspn(cluster_url, "\n")] = '\0';
    return cmocka_run_group_tests(tests, NULL, NULL);
}
