/* store_sqlite.c - the SQLite backend of store.h: a small pool of connections in WAL
 * mode with synchronous=FULL (a COMMIT that returned is on disk), each with its own
 * mutex and its own cache of persistent prepared statements, and versioned schema
 * migrations applied at open. */
#include "store_impl.h"
#include "err.h"
#include "scan.h"
#include "util.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SIZE        4        /* connections: the committer plus a few readers */
#define BUSY_TIMEOUT_MS  10000
#define LIST_FIRST_CAP   16       /* first allocation of a list, in records */

/* Schema migrations: entry i brings the schema to version i + 1. Append only. */
static const char *const migrations[] = {
    "CREATE TABLE users ("
    "  id              INTEGER PRIMARY KEY,"
    "  name            TEXT    NOT NULL UNIQUE,"
    "  pwhash          TEXT    NOT NULL,"
    "  role            INTEGER NOT NULL,"
    "  created_ms      INTEGER NOT NULL,"
    "  failed_count    INTEGER NOT NULL DEFAULT 0,"
    "  failed_since_ms INTEGER NOT NULL DEFAULT 0,"
    "  locked_until_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE assets ("
    "  id              INTEGER PRIMARY KEY,"
    "  agent_uuid      TEXT UNIQUE,"
    "  hostname        TEXT    NOT NULL,"
    "  os_family       TEXT    NOT NULL,"
    "  modules         INTEGER NOT NULL DEFAULT 0,"
    "  created_ms      INTEGER NOT NULL,"
    "  updated_ms      INTEGER NOT NULL,"
    "  last_checkin_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE jobs ("
    "  id              INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  asset_id        INTEGER NOT NULL REFERENCES assets(id),"
    "  scan_type       INTEGER NOT NULL,"
    "  override_cpu    INTEGER NOT NULL,"
    "  state           INTEGER NOT NULL,"
    "  requested_by    TEXT    NOT NULL,"
    "  requested_from  TEXT    NOT NULL,"
    "  created_ms      INTEGER NOT NULL,"
    "  updated_ms      INTEGER NOT NULL);"
    /* at most one QUEUED/DISPATCHED/RUNNING job per (asset, scan, override) */
    "CREATE UNIQUE INDEX jobs_active ON jobs(asset_id, scan_type, override_cpu)"
    "  WHERE state IN (0, 1, 2);"
    "CREATE INDEX jobs_asset ON jobs(asset_id, id);"
    "CREATE TABLE audit ("
    "  id              INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at_ms           INTEGER NOT NULL,"
    "  user            TEXT    NOT NULL,"
    "  remote          TEXT    NOT NULL,"
    "  action          TEXT    NOT NULL,"
    "  target          TEXT    NOT NULL,"
    "  result          TEXT    NOT NULL,"
    "  detail          TEXT    NOT NULL);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
    "INSERT INTO meta(key, value) VALUES ('auth_epoch', 0);",
};
#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Set on every connection at open; journal_mode is checked separately. */
static const char *const pragmas[] = {
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
};

#define USER_COLS  "id, name, pwhash, role, created_ms, failed_count, failed_since_ms, " \
                   "locked_until_ms"
#define ASSET_COLS "id, agent_uuid, hostname, os_family, modules, created_ms, updated_ms, " \
                   "last_checkin_ms"
#define JOB_COLS   "id, asset_id, scan_type, override_cpu, state, requested_by, " \
                   "requested_from, created_ms, updated_ms"
#define AUDIT_COLS "id, at_ms, user, remote, action, target, result, detail"

enum stmt_id {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_EPOCH_GET, S_EPOCH_BUMP,
    S_USER_ADD, S_USER_GET, S_USER_LIST, S_USER_SET_PW, S_USER_SET_ROLE, S_USER_DEL,
    S_USER_LOCK_SET, S_USER_LOGIN_OK,
    S_ASSET_ADD, S_ASSET_GET, S_ASSET_LIST, S_ASSET_MODULES,
    S_JOB_FIND, S_JOB_INSERT, S_JOB_GET, S_JOB_LIST_ALL, S_JOB_LIST_ASSET,
    S_AUDIT_ADD, S_AUDIT_LIST,
    STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [S_BEGIN]         = "BEGIN IMMEDIATE",
    [S_COMMIT]        = "COMMIT",
    [S_ROLLBACK]      = "ROLLBACK",
    [S_EPOCH_GET]     = "SELECT value FROM meta WHERE key = 'auth_epoch'",
    [S_EPOCH_BUMP]    = "UPDATE meta SET value = value + 1 WHERE key = 'auth_epoch'",
    [S_USER_ADD]      = "INSERT INTO users(name, pwhash, role, created_ms) VALUES (?1, ?2, ?3, ?4)",
    [S_USER_GET]      = "SELECT " USER_COLS " FROM users WHERE name = ?1",
    [S_USER_LIST]     = "SELECT " USER_COLS " FROM users ORDER BY name",
    [S_USER_SET_PW]   = "UPDATE users SET pwhash = ?2, failed_count = 0, failed_since_ms = 0,"
                        " locked_until_ms = 0 WHERE name = ?1",
    [S_USER_SET_ROLE] = "UPDATE users SET role = ?2 WHERE name = ?1",
    [S_USER_DEL]      = "DELETE FROM users WHERE name = ?1",
    [S_USER_LOCK_SET] = "UPDATE users SET failed_count = ?2, failed_since_ms = ?3,"
                        " locked_until_ms = ?4 WHERE name = ?1",
    [S_USER_LOGIN_OK] = "UPDATE users SET failed_count = 0, failed_since_ms = 0,"
                        " locked_until_ms = 0 WHERE name = ?1",
    [S_ASSET_ADD]     = "INSERT INTO assets(" ASSET_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_ASSET_GET]     = "SELECT " ASSET_COLS " FROM assets WHERE id = ?1",
    [S_ASSET_LIST]    = "SELECT " ASSET_COLS " FROM assets ORDER BY id",
    [S_ASSET_MODULES] = "SELECT modules FROM assets WHERE id = ?1",
    [S_JOB_FIND]      = "SELECT id FROM jobs WHERE asset_id = ?1 AND scan_type = ?2"
                        " AND override_cpu = ?3 AND state IN (0, 1, 2)",
    [S_JOB_INSERT]    = "INSERT INTO jobs(asset_id, scan_type, override_cpu, state, requested_by,"
                        " requested_from, created_ms, updated_ms)"
                        " VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?6)",
    [S_JOB_GET]       = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
    [S_JOB_LIST_ALL]  = "SELECT " JOB_COLS " FROM jobs ORDER BY id DESC",
    [S_JOB_LIST_ASSET]= "SELECT " JOB_COLS " FROM jobs WHERE asset_id = ?1 ORDER BY id DESC",
    [S_AUDIT_ADD]     = "INSERT INTO audit(at_ms, user, remote, action, target, result, detail)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_AUDIT_LIST]    = "SELECT " AUDIT_COLS " FROM audit ORDER BY id DESC LIMIT ?1",
};

struct conn {
    pthread_mutex_t lock;
    sqlite3        *db;
    sqlite3_stmt   *stmts[STMT_COUNT];   /* prepared on first use, kept until close */
};

struct sqlite_store {
    struct store base;                   /* first: store_t * converts to this handle */
    struct conn  conns[POOL_SIZE];
    int          nconns;                 /* connections fully opened */
    atomic_uint  next;                   /* round-robin start for conn_acquire */
};

/* The QPS responseCode written to the audit log for each per-item launch result. */
static const struct {
    int         result;
    const char *qps_code;
} launch_codes[] = {
    { ODS_E_OK,       "SUCCESS" },
    { ODS_E_NOTFOUND, "NOT_FOUND" },
    { ODS_E_PERM,     "INVALID_REQUEST" },
    { ODS_E_INVAL,    "INVALID_REQUEST" },
};

static const struct store_ops sqlite_ops;

/* --- connections ------------------------------------------------------------------ */

static struct sqlite_store *
sq(store_t *st)
{
    return (struct sqlite_store *)st;
}

static int
exec_sql(sqlite3 *db, const char *sql, const char **reason)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        *reason = store_err_set("%s: %s", sql, msg != NULL ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return ODS_E_STORE;
    }
    return ODS_E_OK;
}

/* wal_enable switches the database to WAL and checks that it took: durability of an
 * acknowledged launch rests on WAL with synchronous=FULL. */
static int
wal_enable(sqlite3 *db, const char **reason)
{
    sqlite3_stmt *q = NULL;
    int rc = ODS_E_STORE;

    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        *reason = store_err_set("PRAGMA journal_mode=WAL: %s", sqlite3_errmsg(db));
        goto out;
    }
    const unsigned char *mode = sqlite3_column_text(q, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
        *reason = store_err_set("journal_mode WAL refused (got '%s')",
            mode != NULL ? (const char *)mode : "");
        goto out;
    }
    rc = ODS_E_OK;
out:
    sqlite3_finalize(q);
    return rc;
}

static int
conn_open(struct conn *c, const char *path, const char **reason)
{
    sqlite3 *db = NULL;
    int rc = ODS_E_STORE;

    int src = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
        SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
    if (src != SQLITE_OK) {
        *reason = store_err_set("cannot open database '%s': %s", path,
            db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(src));
        rc = src == SQLITE_NOMEM ? ODS_E_NOMEM : ODS_E_STORE;
        goto out;
    }
    if (sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS) != SQLITE_OK) {
        *reason = store_err_set("busy_timeout: %s", sqlite3_errmsg(db));
        goto out;
    }
    if ((rc = wal_enable(db, reason)) != ODS_E_OK)
        goto out;
    for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++)
        if ((rc = exec_sql(db, pragmas[i], reason)) != ODS_E_OK)
            goto out;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        *reason = store_err_set("cannot create a connection mutex");
        rc = ODS_E_NOMEM;
        goto out;
    }
    c->db = db;
    db = NULL;
    rc = ODS_E_OK;
out:
    sqlite3_close(db);
    return rc;
}

static void
conn_close(struct conn *c)
{
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->lock);
}

/* conn_acquire hands out a free connection, or waits for one; pair with conn_release. */
static struct conn *
conn_acquire(store_t *st)
{
    struct sqlite_store *s = sq(st);
    unsigned start = atomic_fetch_add(&s->next, 1);

    for (int i = 0; i < s->nconns; i++) {
        struct conn *c = &s->conns[(start + (unsigned)i) % (unsigned)s->nconns];
        if (pthread_mutex_trylock(&c->lock) == 0)
            return c;
    }
    struct conn *c = &s->conns[start % (unsigned)s->nconns];
    pthread_mutex_lock(&c->lock);
    return c;
}

/* conn_release resets every statement (no read left open, no dangling bindings) and
 * rolls back a transaction a caller failed to finish, then frees the connection. */
static void
conn_release(struct conn *c)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        if (c->stmts[i] != NULL) {
            sqlite3_reset(c->stmts[i]);
            sqlite3_clear_bindings(c->stmts[i]);
        }
    }
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&c->lock);
}

/* stmt returns the connection's cached statement, preparing it on first use;
 * NULL when it cannot be prepared. */
static sqlite3_stmt *
stmt(struct conn *c, enum stmt_id id)
{
    if (c->stmts[id] == NULL &&
        sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
            &c->stmts[id], NULL) != SQLITE_OK)
        return NULL;
    return c->stmts[id];
}

/* run steps a statement that returns no rows and resets it. Returns the sqlite code
 * of the step (SQLITE_DONE on success). */
static int
run(sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);

    sqlite3_reset(q);
    return rc;
}

static int
run_id(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *q = stmt(c, id);

    return (q != NULL && run(q) == SQLITE_DONE) ? ODS_E_OK : ODS_E_STORE;
}

static int
tx_begin(struct conn *c)
{
    return run_id(c, S_BEGIN);
}

/* tx_finish commits when rc is 0, else rolls back. Returns rc, or ODS_E_STORE when
 * the commit failed (the transaction is then rolled back). */
static int
tx_finish(struct conn *c, int rc)
{
    if (rc == ODS_E_OK && run_id(c, S_COMMIT) == ODS_E_OK)
        return ODS_E_OK;
    if (!sqlite3_get_autocommit(c->db))
        (void)run_id(c, S_ROLLBACK);
    return rc == ODS_E_OK ? ODS_E_STORE : rc;
}

/* insert_code maps the step code of an INSERT: a duplicate key is ODS_E_EXISTS. */
static int
insert_code(int rc)
{
    if (rc == SQLITE_DONE)
        return ODS_E_OK;
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return ODS_E_EXISTS;
    return ODS_E_STORE;
}

static int
bind_text(sqlite3_stmt *q, int i, const char *s)
{
    return sqlite3_bind_text(q, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

static void
col_text(sqlite3_stmt *q, int i, char *dst, size_t n)
{
    const unsigned char *t = sqlite3_column_text(q, i);

    /* writers refuse strings longer than the record fields, so this never truncates */
    (void)str_copy(dst, n, t != NULL ? (const char *)t : "");
}

/* --- rows ------------------------------------------------------------------------- */

typedef void (*row_reader)(sqlite3_stmt *q, void *record);

static void
user_read(sqlite3_stmt *q, void *record)
{
    struct user *u = record;

    u->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, u->name, sizeof(u->name));
    col_text(q, 2, u->pwhash, sizeof(u->pwhash));
    u->role = sqlite3_column_int(q, 3);
    u->created_ms = sqlite3_column_int64(q, 4);
    u->failed_count = sqlite3_column_int(q, 5);
    u->failed_since_ms = sqlite3_column_int64(q, 6);
    u->locked_until_ms = sqlite3_column_int64(q, 7);
}

static void
asset_read(sqlite3_stmt *q, void *record)
{
    struct asset *a = record;

    a->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, a->agent_uuid, sizeof(a->agent_uuid));
    col_text(q, 2, a->hostname, sizeof(a->hostname));
    col_text(q, 3, a->os_family, sizeof(a->os_family));
    a->modules = (unsigned)sqlite3_column_int64(q, 4);
    a->created_ms = sqlite3_column_int64(q, 5);
    a->updated_ms = sqlite3_column_int64(q, 6);
    a->last_checkin_ms = sqlite3_column_int64(q, 7);
}

static void
job_read(sqlite3_stmt *q, void *record)
{
    struct job *j = record;

    j->id = sqlite3_column_int64(q, 0);
    j->asset_id = sqlite3_column_int64(q, 1);
    j->scan_type = sqlite3_column_int(q, 2);
    j->override_cpu = sqlite3_column_int(q, 3) != 0;
    j->state = sqlite3_column_int(q, 4);
    col_text(q, 5, j->requested_by, sizeof(j->requested_by));
    col_text(q, 6, j->requested_from, sizeof(j->requested_from));
    j->created_ms = sqlite3_column_int64(q, 7);
    j->updated_ms = sqlite3_column_int64(q, 8);
}

static void
audit_read(sqlite3_stmt *q, void *record)
{
    struct audit_entry *e = record;

    e->id = sqlite3_column_int64(q, 0);
    e->at_ms = sqlite3_column_int64(q, 1);
    col_text(q, 2, e->user, sizeof(e->user));
    col_text(q, 3, e->remote, sizeof(e->remote));
    col_text(q, 4, e->action, sizeof(e->action));
    col_text(q, 5, e->target, sizeof(e->target));
    col_text(q, 6, e->result, sizeof(e->result));
    col_text(q, 7, e->detail, sizeof(e->detail));
}

/* read_one reads the first row of a bound query into record.
 * Returns 0, ODS_E_NOTFOUND or ODS_E_STORE; the query is reset. */
static int
read_one(sqlite3_stmt *q, row_reader read, void *record, size_t size)
{
    int rc = sqlite3_step(q);

    if (rc == SQLITE_ROW) {
        memset(record, 0, size);
        read(q, record);
        rc = ODS_E_OK;
    } else {
        rc = rc == SQLITE_DONE ? ODS_E_NOTFOUND : ODS_E_STORE;
    }
    sqlite3_reset(q);
    return rc;
}

/* read_all reads every row of a bound query into one malloc'd array (caller frees
 * *out; NULL when there are no rows). Returns 0, ODS_E_NOMEM or ODS_E_STORE. */
static int
read_all(sqlite3_stmt *q, row_reader read, size_t size, void **out, size_t *n)
{
    char *rows = NULL;
    size_t len = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap != 0 ? cap * 2 : LIST_FIRST_CAP;
            char *grown = reallocarray(rows, ncap, size);
            if (grown == NULL) {
                rc = ODS_E_NOMEM;
                goto out;
            }
            rows = grown;
            cap = ncap;
        }
        memset(rows + len * size, 0, size);
        read(q, rows + len * size);
        len++;
    }
    if (rc != SQLITE_DONE) {
        rc = ODS_E_STORE;
        goto out;
    }
    *out = rows;
    *n = len;
    rows = NULL;
    rc = ODS_E_OK;
out:
    free(rows);
    sqlite3_reset(q);
    return rc;
}

/* --- migrations ------------------------------------------------------------------- */

static int
migration_applied(sqlite3 *db, int version, bool *applied, const char **reason)
{
    sqlite3_stmt *q = NULL;
    int rc = ODS_E_STORE;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1,
            &q, NULL) != SQLITE_OK || sqlite3_bind_int(q, 1, version) != SQLITE_OK)
        goto out;
    int src = sqlite3_step(q);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        goto out;
    *applied = src == SQLITE_ROW;
    rc = ODS_E_OK;
out:
    if (rc != ODS_E_OK)
        *reason = store_err_set("reading schema_migrations: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}

static int
migration_record(sqlite3 *db, int version, const char **reason)
{
    sqlite3_stmt *q = NULL;
    int rc = ODS_E_STORE;

    if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations(version, applied_at)"
            " VALUES (?1, ?2)", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_bind_int(q, 1, version) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, now_ms()) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_DONE) {
        *reason = store_err_set("recording migration %d: %s", version, sqlite3_errmsg(db));
        goto out;
    }
    rc = ODS_E_OK;
out:
    sqlite3_finalize(q);
    return rc;
}

/* migrate_one applies one migration unless already there, inside its own BEGIN
 * IMMEDIATE: a second process opening at the same time waits, then sees it applied. */
static int
migrate_one(sqlite3 *db, int version, const char *sql, const char **reason)
{
    bool applied = false;
    int rc;

    if ((rc = exec_sql(db, "BEGIN IMMEDIATE", reason)) != ODS_E_OK)
        return rc;
    rc = exec_sql(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, applied_at INTEGER)", reason);
    if (rc == ODS_E_OK)
        rc = migration_applied(db, version, &applied, reason);
    if (rc == ODS_E_OK && !applied) {
        rc = exec_sql(db, sql, reason);
        if (rc != ODS_E_OK)
            *reason = store_err_set("migration %d: %s", version, sqlite3_errmsg(db));
        else
            rc = migration_record(db, version, reason);
    }
    if (rc == ODS_E_OK)
        rc = exec_sql(db, "COMMIT", reason);
    if (rc != ODS_E_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* schema_check refuses a database migrated by a newer build. */
static int
schema_check(sqlite3 *db, const char **reason)
{
    sqlite3_stmt *q = NULL;
    int rc = ODS_E_STORE;

    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations", -1, &q,
            NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
        *reason = store_err_set("reading schema version: %s", sqlite3_errmsg(db));
        goto out;
    }
    int64_t version = sqlite3_column_int64(q, 0);
    if (version > MIGRATION_COUNT) {
        *reason = store_err_set("database schema version %lld is newer than this build's %d",
            (long long)version, MIGRATION_COUNT);
        goto out;
    }
    rc = ODS_E_OK;
out:
    sqlite3_finalize(q);
    return rc;
}

static int
migrate(sqlite3 *db, const char **reason)
{
    for (int i = 0; i < MIGRATION_COUNT; i++) {
        int rc = migrate_one(db, i + 1, migrations[i], reason);
        if (rc != ODS_E_OK)
            return rc;
    }
    return schema_check(db, reason);
}

/* --- open / close ----------------------------------------------------------------- */

static void
sqlite_close(store_t *st)
{
    struct sqlite_store *s = sq(st);

    if (s == NULL)
        return;
    for (int i = 0; i < s->nconns; i++)
        conn_close(&s->conns[i]);
    free(s);
}

int
store_sqlite_open(const char *path, store_t **out, const char **err)
{
    struct sqlite_store *s = NULL;
    const char *reason = NULL;
    int rc;

    *out = NULL;
    if (*path == '\0') {
        reason = store_err_set("empty database path");
        rc = ODS_E_INVAL;
        goto out;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        reason = store_err_set("out of memory");
        rc = ODS_E_NOMEM;
        goto out;
    }
    s->base.ops = &sqlite_ops;
    atomic_init(&s->next, 0);
    for (int i = 0; i < POOL_SIZE; i++) {
        if ((rc = conn_open(&s->conns[i], path, &reason)) != ODS_E_OK)
            goto out;
        s->nconns++;
        if (i == 0 && (rc = migrate(s->conns[0].db, &reason)) != ODS_E_OK)
            goto out;
    }
    *out = &s->base;
    s = NULL;
    rc = ODS_E_OK;
out:
    if (s != NULL)
        sqlite_close(&s->base);
    if (rc != ODS_E_OK && err != NULL)
        *err = reason;
    return rc;
}

/* --- launches --------------------------------------------------------------------- */

static const char *
launch_code(int result)
{
    for (size_t i = 0; i < sizeof(launch_codes) / sizeof(launch_codes[0]); i++)
        if (launch_codes[i].result == result)
            return launch_codes[i].qps_code;
    return "INTERNAL_ERROR";
}

static int
audit_insert(sqlite3_stmt *q, const struct audit_entry *e)
{
    if (sqlite3_bind_int64(q, 1, e->at_ms != 0 ? e->at_ms : now_ms()) != SQLITE_OK ||
        bind_text(q, 2, e->user) != SQLITE_OK ||
        bind_text(q, 3, e->remote) != SQLITE_OK ||
        bind_text(q, 4, e->action) != SQLITE_OK ||
        bind_text(q, 5, e->target) != SQLITE_OK ||
        bind_text(q, 6, e->result) != SQLITE_OK ||
        bind_text(q, 7, e->detail) != SQLITE_OK)
        return ODS_E_STORE;
    return run(q) == SQLITE_DONE ? ODS_E_OK : ODS_E_STORE;
}

/* The statements of the launch path, looked up once per batch. */
struct launch_stmts {
    sqlite3_stmt *modules, *find, *insert, *audit;
};

static int
launch_stmts_get(struct conn *c, struct launch_stmts *ls)
{
    ls->modules = stmt(c, S_ASSET_MODULES);
    ls->find = stmt(c, S_JOB_FIND);
    ls->insert = stmt(c, S_JOB_INSERT);
    ls->audit = stmt(c, S_AUDIT_ADD);
    if (ls->modules == NULL || ls->find == NULL || ls->insert == NULL || ls->audit == NULL)
        return ODS_E_STORE;
    return ODS_E_OK;
}

/* asset_modules reads an asset's module bits. Returns 0, ODS_E_NOTFOUND or ODS_E_STORE. */
static int
asset_modules(sqlite3_stmt *q, int64_t asset_id, unsigned *mods)
{
    int rc;

    if (sqlite3_bind_int64(q, 1, asset_id) != SQLITE_OK)
        return ODS_E_STORE;
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *mods = (unsigned)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ODS_E_OK;
    return rc == SQLITE_DONE ? ODS_E_NOTFOUND : ODS_E_STORE;
}

/* job_find_or_insert reuses an active identical job or queues a new one. */
static int
job_find_or_insert(const struct launch_stmts *ls, struct launch *it)
{
    int rc;

    if (sqlite3_bind_int64(ls->find, 1, it->asset_id) != SQLITE_OK ||
        sqlite3_bind_int(ls->find, 2, it->scan_type) != SQLITE_OK ||
        sqlite3_bind_int(ls->find, 3, it->override_cpu) != SQLITE_OK)
        return ODS_E_STORE;
    rc = sqlite3_step(ls->find);
    if (rc == SQLITE_ROW) {
        it->job_id = sqlite3_column_int64(ls->find, 0);
        it->existing = true;
    }
    sqlite3_reset(ls->find);
    if (rc == SQLITE_ROW)
        return ODS_E_OK;
    if (rc != SQLITE_DONE)
        return ODS_E_STORE;

    if (sqlite3_bind_int64(ls->insert, 1, it->asset_id) != SQLITE_OK ||
        sqlite3_bind_int(ls->insert, 2, it->scan_type) != SQLITE_OK ||
        sqlite3_bind_int(ls->insert, 3, it->override_cpu) != SQLITE_OK ||
        bind_text(ls->insert, 4, it->user) != SQLITE_OK ||
        bind_text(ls->insert, 5, it->remote) != SQLITE_OK ||
        sqlite3_bind_int64(ls->insert, 6, it->at_ms) != SQLITE_OK ||
        run(ls->insert) != SQLITE_DONE)
        return ODS_E_STORE;
    it->job_id = sqlite3_last_insert_rowid(sqlite3_db_handle(ls->insert));
    return ODS_E_OK;
}

/* launch_audit writes the audit row of one launch; reason is set for failures. */
static int
launch_audit(const struct launch_stmts *ls, const struct launch *it,
    const struct scan_type_info *scan, const char *reason)
{
    struct audit_entry e = { .at_ms = it->at_ms };
    int len;

    if (str_copy(e.user, sizeof(e.user), it->user != NULL ? it->user : "") != 0 ||
        str_copy(e.remote, sizeof(e.remote), it->remote != NULL ? it->remote : "") != 0 ||
        str_copy(e.action, sizeof(e.action), "launch") != 0 ||
        str_copy(e.result, sizeof(e.result), launch_code(it->result)) != 0)
        return ODS_E_TOOBIG;
    len = snprintf(e.target, sizeof(e.target), "asset=%lld scan=%s override=%s",
        (long long)it->asset_id, scan != NULL ? scan->param : "unknown",
        it->override_cpu ? "true" : "false");
    if (len < 0 || (size_t)len >= sizeof(e.target))
        return ODS_E_TOOBIG;
    if (it->result == ODS_E_OK)
        len = snprintf(e.detail, sizeof(e.detail), "job=%lld%s", (long long)it->job_id,
            it->existing ? " existing" : "");
    else
        len = snprintf(e.detail, sizeof(e.detail), "%s", reason);
    if (len < 0 || (size_t)len >= sizeof(e.detail))
        return ODS_E_TOOBIG;
    return audit_insert(ls->audit, &e);
}

/* launch_one decides one item inside the batch's transaction. Per-item outcomes go to
 * it->result; the return value is not 0 only when the batch must roll back. */
static int
launch_one(const struct launch_stmts *ls, struct launch *it)
{
    const struct scan_type_info *scan = scan_type_get(it->scan_type);
    char reason[STORE_TEXT_MAX] = "";
    unsigned mods = 0;
    int rc;

    it->job_id = 0;
    it->existing = false;
    it->result = ODS_E_OK;
    if (scan == NULL) {
        it->result = ODS_E_INVAL;
        return launch_audit(ls, it, NULL, "unknown scan type");
    }
    rc = asset_modules(ls->modules, it->asset_id, &mods);
    if (rc == ODS_E_NOTFOUND) {
        it->result = ODS_E_NOTFOUND;
        return launch_audit(ls, it, scan, "asset not found");
    }
    if (rc != ODS_E_OK)
        return rc;
    if ((scan->needs & ~mods) != 0) {
        it->result = ODS_E_PERM;
        int len = snprintf(reason, sizeof(reason), "module %s not activated", scan->needs_name);
        if (len < 0 || (size_t)len >= sizeof(reason))
            return ODS_E_TOOBIG;
        return launch_audit(ls, it, scan, reason);
    }
    if ((rc = job_find_or_insert(ls, it)) != ODS_E_OK)
        return rc;
    return launch_audit(ls, it, scan, NULL);
}

static int
sqlite_launch_batch(store_t *st, struct launch *items, size_t n)
{
    struct conn *c = conn_acquire(st);
    struct launch_stmts ls;
    int rc;

    if ((rc = launch_stmts_get(c, &ls)) != ODS_E_OK || (rc = tx_begin(c)) != ODS_E_OK)
        goto out;
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
        rc = launch_one(&ls, &items[i]);
    rc = tx_finish(c, rc) == ODS_E_OK ? ODS_E_OK : ODS_E_STORE;
out:
    conn_release(c);
    return rc == ODS_E_OK ? ODS_E_OK : ODS_E_STORE;
}

/* --- jobs ------------------------------------------------------------------------- */

static int
sqlite_job_get(store_t *st, int64_t id, struct job *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_JOB_GET);
    int rc = ODS_E_STORE;

    if (q != NULL && sqlite3_bind_int64(q, 1, id) == SQLITE_OK)
        rc = read_one(q, job_read, out, sizeof(*out));
    conn_release(c);
    return rc;
}

static int
sqlite_job_list(store_t *st, int64_t asset_id, struct job **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, asset_id == 0 ? S_JOB_LIST_ALL : S_JOB_LIST_ASSET);
    void *rows = NULL;
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q == NULL || (asset_id != 0 && sqlite3_bind_int64(q, 1, asset_id) != SQLITE_OK))
        goto out;
    if ((rc = read_all(q, job_read, sizeof(**out), &rows, n)) == ODS_E_OK)
        *out = rows;
out:
    conn_release(c);
    return rc;
}

/* --- users ------------------------------------------------------------------------ */

static bool
fits(const char *s, size_t max)
{
    return s != NULL && strlen(s) < max;
}

static int
sqlite_user_add(store_t *st, const char *name, const char *pwhash, int role)
{
    if (!fits(name, STORE_NAME_MAX) || *name == '\0' || !fits(pwhash, STORE_HASH_MAX) ||
        role < 0 || role >= ROLE_COUNT)
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_USER_ADD);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, name) == SQLITE_OK && bind_text(q, 2, pwhash) == SQLITE_OK &&
        sqlite3_bind_int(q, 3, role) == SQLITE_OK &&
        sqlite3_bind_int64(q, 4, now_ms()) == SQLITE_OK)
        rc = insert_code(run(q));
    conn_release(c);
    return rc;
}

static int
sqlite_user_get(store_t *st, const char *name, struct user *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_USER_GET);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, name) == SQLITE_OK)
        rc = read_one(q, user_read, out, sizeof(*out));
    conn_release(c);
    return rc;
}

static int
sqlite_user_list(store_t *st, struct user **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_USER_LIST);
    void *rows = NULL;
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q != NULL && (rc = read_all(q, user_read, sizeof(**out), &rows, n)) == ODS_E_OK)
        *out = rows;
    conn_release(c);
    return rc;
}

/* user_change runs an already bound UPDATE/DELETE of one user and bumps the auth epoch,
 * in one transaction. Returns 0, ODS_E_NOTFOUND or ODS_E_STORE. */
static int
user_change(struct conn *c, sqlite3_stmt *change)
{
    int rc;

    if ((rc = tx_begin(c)) != ODS_E_OK)
        return rc;
    if (run(change) != SQLITE_DONE)
        rc = ODS_E_STORE;
    else if (sqlite3_changes(c->db) == 0)
        rc = ODS_E_NOTFOUND;
    else
        rc = run_id(c, S_EPOCH_BUMP);
    return tx_finish(c, rc);
}

static int
sqlite_user_set_password(store_t *st, const char *name, const char *pwhash)
{
    if (!fits(pwhash, STORE_HASH_MAX))
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_USER_SET_PW);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, name) == SQLITE_OK && bind_text(q, 2, pwhash) == SQLITE_OK)
        rc = user_change(c, q);
    conn_release(c);
    return rc;
}

static int
sqlite_user_set_role(store_t *st, const char *name, int role)
{
    if (role < 0 || role >= ROLE_COUNT)
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_USER_SET_ROLE);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, name) == SQLITE_OK && sqlite3_bind_int(q, 2, role) == SQLITE_OK)
        rc = user_change(c, q);
    conn_release(c);
    return rc;
}

static int
sqlite_user_del(store_t *st, const char *name)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_USER_DEL);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, name) == SQLITE_OK)
        rc = user_change(c, q);
    conn_release(c);
    return rc;
}

/* lockout_fail applies one failed login to a user's failure window: a failure more
 * than window_ms after the window opened starts a new one; the max_failures-th
 * failure inside a window locks the account for lock_ms. max_failures <= 0 never locks. */
static void
lockout_fail(struct user *u, int64_t now, int64_t window_ms, int max_failures,
    int64_t lock_ms)
{
    if (u->failed_count <= 0 || now - u->failed_since_ms >= window_ms) {
        u->failed_count = 0;
        u->failed_since_ms = now;
    }
    if (u->failed_count < INT32_MAX)
        u->failed_count++;
    if (max_failures > 0 && u->failed_count >= max_failures)
        u->locked_until_ms = now + lock_ms;
}

static int
login_failed_tx(struct conn *c, const char *name, int64_t now, int64_t window_ms,
    int max_failures, int64_t lock_ms, bool *locked)
{
    sqlite3_stmt *get = stmt(c, S_USER_GET), *set = stmt(c, S_USER_LOCK_SET);
    struct user u;
    int rc;

    if (get == NULL || set == NULL || bind_text(get, 1, name) != SQLITE_OK)
        return ODS_E_STORE;
    if ((rc = read_one(get, user_read, &u, sizeof(u))) != ODS_E_OK)
        return rc;
    lockout_fail(&u, now, window_ms, max_failures, lock_ms);
    if (bind_text(set, 1, name) != SQLITE_OK ||
        sqlite3_bind_int(set, 2, u.failed_count) != SQLITE_OK ||
        sqlite3_bind_int64(set, 3, u.failed_since_ms) != SQLITE_OK ||
        sqlite3_bind_int64(set, 4, u.locked_until_ms) != SQLITE_OK ||
        run(set) != SQLITE_DONE)
        return ODS_E_STORE;
    if (locked != NULL)
        *locked = u.locked_until_ms > now;
    return ODS_E_OK;
}

static int
sqlite_user_login_failed(store_t *st, const char *name, int64_t now, int64_t window_ms,
    int max_failures, int64_t lock_ms, bool *locked)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = login_failed_tx(c, name, now, window_ms, max_failures, lock_ms, locked);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_user_login_ok(store_t *st, const char *name)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_USER_LOGIN_OK);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, name) == SQLITE_OK && run(q) == SQLITE_DONE)
        rc = sqlite3_changes(c->db) == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
    conn_release(c);
    return rc;
}

static int
sqlite_auth_epoch(store_t *st, int64_t *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_EPOCH_GET);
    int rc = ODS_E_STORE;

    if (q != NULL) {
        int src = sqlite3_step(q);
        if (src == SQLITE_ROW) {
            *out = sqlite3_column_int64(q, 0);
            rc = ODS_E_OK;
        }
        sqlite3_reset(q);
    }
    conn_release(c);
    return rc;
}

/* --- assets ----------------------------------------------------------------------- */

static int
asset_bind(sqlite3_stmt *q, const struct asset *a, int64_t now)
{
    int rc = sqlite3_bind_int64(q, 1, a->id);

    if (rc == SQLITE_OK)
        rc = a->agent_uuid[0] != '\0' ? bind_text(q, 2, a->agent_uuid) : sqlite3_bind_null(q, 2);
    if (rc == SQLITE_OK)
        rc = bind_text(q, 3, a->hostname);
    if (rc == SQLITE_OK)
        rc = bind_text(q, 4, a->os_family);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 5, a->modules);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 6, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 7, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 8, a->last_checkin_ms);
    return rc;
}

static int
sqlite_asset_add(store_t *st, const struct asset *a)
{
    if (a->id <= 0 || !fits(a->agent_uuid, sizeof(a->agent_uuid)) ||
        !fits(a->hostname, sizeof(a->hostname)) || !fits(a->os_family, sizeof(a->os_family)))
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_ASSET_ADD);
    int rc = ODS_E_STORE;

    if (q != NULL && asset_bind(q, a, now_ms()) == SQLITE_OK)
        rc = insert_code(run(q));
    conn_release(c);
    return rc;
}

static int
sqlite_asset_get(store_t *st, int64_t id, struct asset *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_ASSET_GET);
    int rc = ODS_E_STORE;

    if (q != NULL && sqlite3_bind_int64(q, 1, id) == SQLITE_OK)
        rc = read_one(q, asset_read, out, sizeof(*out));
    conn_release(c);
    return rc;
}

static int
sqlite_asset_list(store_t *st, struct asset **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_ASSET_LIST);
    void *rows = NULL;
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q != NULL && (rc = read_all(q, asset_read, sizeof(**out), &rows, n)) == ODS_E_OK)
        *out = rows;
    conn_release(c);
    return rc;
}

/* --- audit ------------------------------------------------------------------------ */

static int
sqlite_audit_add(store_t *st, const struct audit_entry *e)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_AUDIT_ADD);
    int rc = q != NULL ? audit_insert(q, e) : ODS_E_STORE;

    conn_release(c);
    return rc;
}

static int
sqlite_audit_list(store_t *st, size_t limit, struct audit_entry **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_AUDIT_LIST);
    void *rows = NULL;
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q == NULL ||
        sqlite3_bind_int64(q, 1, limit > INT64_MAX ? INT64_MAX : (int64_t)limit) != SQLITE_OK)
        goto out;
    if ((rc = read_all(q, audit_read, sizeof(**out), &rows, n)) == ODS_E_OK)
        *out = rows;
out:
    conn_release(c);
    return rc;
}

static const struct store_ops sqlite_ops = {
    .name              = "sqlite",
    .close             = sqlite_close,
    .launch_batch      = sqlite_launch_batch,
    .job_get           = sqlite_job_get,
    .job_list          = sqlite_job_list,
    .user_add          = sqlite_user_add,
    .user_get          = sqlite_user_get,
    .user_list         = sqlite_user_list,
    .user_set_password = sqlite_user_set_password,
    .user_set_role     = sqlite_user_set_role,
    .user_del          = sqlite_user_del,
    .user_login_failed = sqlite_user_login_failed,
    .user_login_ok     = sqlite_user_login_ok,
    .auth_epoch        = sqlite_auth_epoch,
    .asset_add         = sqlite_asset_add,
    .asset_get         = sqlite_asset_get,
    .asset_list        = sqlite_asset_list,
    .audit_add         = sqlite_audit_add,
    .audit_list        = sqlite_audit_list,
};
