/* store_pg.c - the PostgreSQL backend of store.h, on libpq: a small pool of
 * connections, each with its own mutex and its own set of prepared statements, the same
 * schema versions as the SQLite backend (applied under an advisory lock, so nodes may
 * start together), and a listener thread for the job events other nodes announce with
 * NOTIFY. Several servers share one database: claims use FOR UPDATE SKIP LOCKED and
 * launches INSERT ... ON CONFLICT DO NOTHING on the index of active jobs.
 *
 * A lost connection turns every call into ODS_E_UNAVAILABLE until a reconnect (tried at
 * most once per backoff step) succeeds. A COMMIT whose outcome is unknown because the
 * connection died is ODS_E_UNAVAILABLE too, never success. */
#include "store_impl.h"
#include "filter_sql.h"
#include "err.h"
#include "scan.h"
#include "util.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_SIZE          4        /* connections: the committer plus a few readers */
#define LIST_FIRST_CAP     16       /* first allocation of a list, in records */
#define RECONNECT_MIN_MS   250      /* first pause after a failed reconnect */
#define RECONNECT_MAX_MS   4000     /* longest pause between reconnects */
#define WATCH_POLL_MS      200      /* the listener checks for shutdown this often */
#define BATCH_TRIES        4        /* a batch chosen as deadlock victim is run again */
#define ARGS_MAX           17       /* parameters of one statement at most */
#define ARGS_ARENA         8192     /* bytes of copied text parameters per statement */
#define CONNECT_TIMEOUT_S  "5"      /* libpq connect_timeout unless the URL says */

#define NOTIFY_CHANNEL     "odscan_jobs"
/* advisory lock keys ("odsm", "odse"): schema migrations, asset ids of enrollments */
#define LOCK_MIGRATE       "1868854125"
#define LOCK_ENROLL        "1868854117"

#define FINDING_COLS "asset_id, advisory_id, aliases, package, installed_version, fixed_version, " \
                     "severity, score10, first_seen_ms, last_seen_ms, fixed_ms"
/* $2 severity, $3 package (NULL: any), $4 enum finding_status */
#define FINDING_FILTER " AND ($2::text IS NULL OR severity = $2) AND ($3::text IS NULL OR package = $3)" \
                       " AND ($4::int = 0 OR ($4::int = 1 AND fixed_ms = 0) OR ($4::int = 2 AND fixed_ms <> 0))"

#define FIRST_ENROLLED_ID  100001      /* ids below are left to assets added by hand */
#define RESULT_DOC_MAX     (16u << 20) /* largest uploaded scan document, bytes */
#define EXPIRED_REASON     "not picked up in time"

/* Schema migrations: entry i brings the schema to version i + 1, like the SQLite
 * backend's (same tables, columns and meaning; PostgreSQL types). Append only. */
static const char *const migrations[] = {
    "CREATE TABLE users ("
    "  id              BIGSERIAL PRIMARY KEY,"
    "  name            TEXT    NOT NULL UNIQUE,"
    "  pwhash          TEXT    NOT NULL,"
    "  role            INTEGER NOT NULL,"
    "  created_ms      BIGINT  NOT NULL,"
    "  failed_count    INTEGER NOT NULL DEFAULT 0,"
    "  failed_since_ms BIGINT  NOT NULL DEFAULT 0,"
    "  locked_until_ms BIGINT  NOT NULL DEFAULT 0);"
    "CREATE TABLE assets ("
    "  id              BIGINT  PRIMARY KEY,"
    "  agent_uuid      TEXT    UNIQUE,"
    "  hostname        TEXT    NOT NULL,"
    "  os_family       TEXT    NOT NULL,"
    "  modules         BIGINT  NOT NULL DEFAULT 0,"
    "  created_ms      BIGINT  NOT NULL,"
    "  updated_ms      BIGINT  NOT NULL,"
    "  last_checkin_ms BIGINT  NOT NULL DEFAULT 0);"
    "CREATE TABLE jobs ("
    "  id              BIGSERIAL PRIMARY KEY,"
    "  asset_id        BIGINT  NOT NULL REFERENCES assets(id),"
    "  scan_type       INTEGER NOT NULL,"
    "  override_cpu    INTEGER NOT NULL,"
    "  state           INTEGER NOT NULL,"
    "  requested_by    TEXT    NOT NULL,"
    "  requested_from  TEXT    NOT NULL,"
    "  created_ms      BIGINT  NOT NULL,"
    "  updated_ms      BIGINT  NOT NULL);"
    /* at most one QUEUED/DISPATCHED/RUNNING job per (asset, scan, override) */
    "CREATE UNIQUE INDEX jobs_active ON jobs(asset_id, scan_type, override_cpu)"
    "  WHERE state IN (0, 1, 2);"
    "CREATE INDEX jobs_asset ON jobs(asset_id, id);"
    "CREATE TABLE audit ("
    "  id              BIGSERIAL PRIMARY KEY,"
    "  at_ms           BIGINT  NOT NULL,"
    "  \"user\"          TEXT    NOT NULL,"
    "  remote          TEXT    NOT NULL,"
    "  action          TEXT    NOT NULL,"
    "  target          TEXT    NOT NULL,"
    "  result          TEXT    NOT NULL,"
    "  detail          TEXT    NOT NULL);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);"
    "INSERT INTO meta(key, value) VALUES ('auth_epoch', 0);",

    /* v2: agents. Enrollment keys, agent identities, configuration profiles, the job's
     * life (timestamps, lease, attempts) and the documents scans upload. */
    "CREATE TABLE actkeys ("
    "  id              BIGSERIAL PRIMARY KEY,"
    "  token           TEXT    NOT NULL UNIQUE,"
    "  name            TEXT    NOT NULL DEFAULT '',"
    "  modules         BIGINT  NOT NULL DEFAULT 0,"
    "  max_uses        INTEGER NOT NULL DEFAULT 0,"
    "  uses            INTEGER NOT NULL DEFAULT 0,"
    "  expires_ms      BIGINT  NOT NULL DEFAULT 0,"
    "  revoked         INTEGER NOT NULL DEFAULT 0,"
    "  created_ms      BIGINT  NOT NULL);"
    "CREATE TABLE profiles ("
    "  id              BIGSERIAL PRIMARY KEY,"
    "  name            TEXT    NOT NULL UNIQUE,"
    "  os_family       TEXT    NOT NULL DEFAULT '',"
    "  is_default      INTEGER NOT NULL DEFAULT 0,"
    "  cpu_limit       INTEGER NOT NULL,"
    "  cpu_throttle    INTEGER NOT NULL,"
    "  checkin_hold_s  INTEGER NOT NULL,"
    "  lease_s         INTEGER NOT NULL,"
    "  max_concurrent  INTEGER NOT NULL);"
    /* one default per OS family */
    "CREATE UNIQUE INDEX profiles_default ON profiles(os_family) WHERE is_default <> 0;"
    /* the vendor's defaults: Windows agents throttle, the others do not */
    "INSERT INTO profiles(name, os_family, is_default, cpu_limit, cpu_throttle,"
    "  checkin_hold_s, lease_s, max_concurrent) VALUES"
    "  ('linux-default',   'linux',   1, 100,   0, 60, 300, 1),"
    "  ('windows-default', 'windows', 1, 100, 100, 60, 300, 1),"
    "  ('macos-default',   'macos',   1, 100,   0, 60, 300, 1),"
    "  ('unix-default',    'unix',    1, 100,   0, 60, 300, 1);"
    "ALTER TABLE assets ADD COLUMN fqdn          TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE assets ADD COLUMN os_name       TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE assets ADD COLUMN os_version    TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE assets ADD COLUMN arch          TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE assets ADD COLUMN machine_id    TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE assets ADD COLUMN agent_version TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE assets ADD COLUMN last_address  TEXT NOT NULL DEFAULT '';"
    /* NULL: the OS family's default profile */
    "ALTER TABLE assets ADD COLUMN profile_id    BIGINT REFERENCES profiles(id);"
    "ALTER TABLE assets ADD COLUMN key_id        BIGINT REFERENCES actkeys(id);"
    "ALTER TABLE jobs ADD COLUMN dispatched_ms     BIGINT  NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN started_ms        BIGINT  NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN finished_ms       BIGINT  NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN lease_deadline_ms BIGINT  NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN attempts          INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN cpu_applied       TEXT    NOT NULL DEFAULT '';"
    "ALTER TABLE jobs ADD COLUMN reason            TEXT    NOT NULL DEFAULT '';"
    /* the sweep looks for expired leases; a check-in for its asset's QUEUED jobs */
    "CREATE INDEX jobs_lease ON jobs(state, lease_deadline_ms);"
    "CREATE INDEX jobs_claim ON jobs(asset_id, state, id);"
    "CREATE TABLE agents ("
    "  uuid            TEXT    PRIMARY KEY,"
    "  asset_id        BIGINT  NOT NULL UNIQUE REFERENCES assets(id),"
    "  secret_hash     TEXT    NOT NULL,"
    "  enrolled_ms     BIGINT  NOT NULL);"
    "CREATE TABLE job_results ("
    "  job_id          BIGINT  PRIMARY KEY REFERENCES jobs(id),"
    "  asset_id        BIGINT  NOT NULL,"
    "  scan_type       INTEGER NOT NULL,"
    "  document        TEXT    NOT NULL,"
    "  created_ms      BIGINT  NOT NULL);"
    "CREATE TABLE inventory ("
    "  asset_id        BIGINT  PRIMARY KEY REFERENCES assets(id),"
    "  job_id          BIGINT  NOT NULL,"
    "  collected_ms    BIGINT  NOT NULL,"
    "  document        TEXT    NOT NULL);"
    /* id orders lines of one millisecond, as SQLite's rowid does */
    "CREATE TABLE inventory_history ("
    "  id              BIGSERIAL PRIMARY KEY,"
    "  asset_id        BIGINT  NOT NULL,"
    "  job_id          BIGINT  NOT NULL,"
    "  at_ms           BIGINT  NOT NULL);"
    "CREATE INDEX inventory_history_asset ON inventory_history(asset_id, at_ms);",

    /* 3: tags, user scopes and limits (the QPS API around the launch) */
    "CREATE TABLE tags ("
    "  id              BIGSERIAL PRIMARY KEY,"
    "  name            TEXT    NOT NULL UNIQUE,"
    "  created_ms      BIGINT  NOT NULL);"
    "CREATE TABLE asset_tags ("
    "  asset_id        BIGINT  NOT NULL REFERENCES assets(id) ON DELETE CASCADE,"
    "  tag_id          BIGINT  NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (asset_id, tag_id));"
    "CREATE INDEX asset_tags_tag ON asset_tags(tag_id, asset_id);"
    "CREATE TABLE user_scopes ("
    "  user_id         BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  tag_id          BIGINT  NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (user_id, tag_id));"
    "CREATE TABLE user_limits ("
    "  user_id         BIGINT  PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  calls           INTEGER NOT NULL DEFAULT 0,"
    "  window_s        INTEGER NOT NULL DEFAULT 0,"
    "  concurrency     INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE key_tags ("
    "  key_id          BIGINT  NOT NULL REFERENCES actkeys(id) ON DELETE CASCADE,"
    "  tag_id          BIGINT  NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (key_id, tag_id));",

    /* 4: vulnerability assessment: the knowledge base, manifests, findings */
    "CREATE TABLE advisories ("
    "  id              TEXT    PRIMARY KEY,"
    "  modified_ms     BIGINT  NOT NULL,"
    "  document        TEXT    NOT NULL,"
    "  imported_ms     BIGINT  NOT NULL);"
    "CREATE TABLE advisory_aliases ("
    "  alias           TEXT    NOT NULL,"
    "  advisory_id     TEXT    NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (alias, advisory_id));"
    "CREATE INDEX advisory_aliases_advisory ON advisory_aliases(advisory_id);"
    "CREATE TABLE vuln_manifests ("
    "  asset_id        BIGINT  PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,"
    "  job_id          BIGINT  NOT NULL,"
    "  hash            TEXT    NOT NULL,"
    "  document        TEXT    NOT NULL,"
    "  collected_ms    BIGINT  NOT NULL,"
    "  scanned_ms      BIGINT  NOT NULL);"
    "CREATE TABLE vuln_findings ("
    "  asset_id        BIGINT  NOT NULL REFERENCES assets(id) ON DELETE CASCADE,"
    "  advisory_id     TEXT    NOT NULL,"
    "  package         TEXT    NOT NULL,"
    "  aliases         TEXT    NOT NULL,"
    "  installed_version TEXT  NOT NULL,"
    "  fixed_version   TEXT    NOT NULL,"
    "  severity        TEXT    NOT NULL,"
    "  score10         INTEGER NOT NULL,"
    "  first_seen_ms   BIGINT  NOT NULL,"
    "  last_seen_ms    BIGINT  NOT NULL,"
    "  fixed_ms        BIGINT  NOT NULL DEFAULT 0,"
    "  stale           INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (asset_id, advisory_id, package));"
    "CREATE INDEX vuln_findings_advisory ON vuln_findings(advisory_id);"
    "INSERT INTO meta(key, value) VALUES ('kb_epoch', 0), ('kb_assessed_epoch', 0);",
};
#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(MIGRATION_COUNT == STORE_SCHEMA_VERSION, "migrations and STORE_SCHEMA_VERSION disagree");

#define USER_COLS  "id, name, pwhash, role, created_ms, failed_count, failed_since_ms, " \
                   "locked_until_ms"
#define ASSET_COLS "id, agent_uuid, hostname, os_family, modules, created_ms, updated_ms, " \
                   "last_checkin_ms, fqdn, os_name, os_version, arch, machine_id, " \
                   "agent_version, last_address, profile_id, key_id"
#define JOB_COLS   "id, asset_id, scan_type, override_cpu, state, requested_by, " \
                   "requested_from, created_ms, updated_ms, dispatched_ms, started_ms, " \
                   "finished_ms, lease_deadline_ms, attempts, cpu_applied, reason"
#define AUDIT_COLS "id, at_ms, \"user\", remote, action, target, result, detail"
#define KEY_COLS   "id, token, name, modules, max_uses, uses, expires_ms, revoked, created_ms"
#define AGENT_COLS "uuid, asset_id, secret_hash, enrolled_ms"
#define TAG_COLS   "id, name, created_ms"
#define TAG_COLS_T "t.id, t.name, t.created_ms"
#define PROFILE_COLS "id, name, os_family, is_default, cpu_limit, cpu_throttle, " \
                   "checkin_hold_s, lease_s, max_concurrent"

enum stmt_id {
    S_EPOCH_GET, S_EPOCH_BUMP,
    S_USER_ADD, S_USER_GET, S_USER_GET_LOCK, S_USER_LIST, S_USER_SET_PW, S_USER_SET_ROLE,
    S_USER_DEL, S_USER_LOCK_SET, S_USER_LOGIN_OK,
    S_ASSET_ADD, S_ASSET_GET, S_ASSET_LIST, S_ASSET_MODULES, S_ASSET_NEXT_ID,
    S_ASSET_CHECKIN, S_ASSET_SET_PROFILE, S_ASSET_MODULES_LOCK, S_ASSET_SET_MODULES,
    S_JOB_FIND, S_JOB_INSERT, S_JOB_GET, S_JOB_GET_LOCK, S_JOB_LIST_ALL, S_JOB_LIST_ASSET,
    S_JOB_QUEUED, S_JOB_DISPATCH, S_JOB_START, S_JOB_RENEW, S_JOB_FINISH,
    S_SWEEP_REQUEUE, S_SWEEP_EXPIRE, S_NOTIFY,
    S_RESULT_ADD, S_RESULT_GET, S_INVENTORY_SET, S_INVENTORY_GET, S_HISTORY_ADD, S_HISTORY_LIST,
    S_KEY_ADD, S_KEY_LIST, S_KEY_GET_LOCK, S_KEY_USE, S_KEY_REVOKE,
    S_KEY_GET_ID, S_KEY_UPDATE, S_KEY_UNLINK, S_KEY_DEL, S_KEY_TAGS_CLEAR, S_KEY_TAG_ADD,
    S_KEY_TAGS, S_ENROLL_TAGS,
    S_TAG_ADD, S_TAG_GET, S_TAG_GET_ID, S_TAG_LIST, S_TAG_RENAME, S_TAG_SCOPED, S_TAG_DEL,
    S_TAG_ASSIGN, S_TAG_UNASSIGN, S_ASSET_TAGS, S_ASSET_EXISTS,
    S_USER_ID, S_SCOPE_CLEAR, S_SCOPE_ADD, S_SCOPE_LIST, S_LIMITS_SET, S_LIMITS_GET,
    S_AGENT_ADD, S_AGENT_GET,
    S_PROFILE_ADD, S_PROFILE_LIST, S_PROFILE_GET, S_PROFILE_FOR_ASSET,
    S_AUDIT_ADD, S_AUDIT_LIST, S_LOCK_ENROLL,
    S_KB_GET, S_KB_PUT, S_KB_ALIAS_DEL, S_KB_ALIAS_ADD, S_KB_EPOCH_GET, S_KB_EPOCH_BUMP,
    S_KB_COUNT, S_KB_EACH, S_KB_CLAIM,
    S_MANIFEST_HASH, S_MANIFEST_SET, S_MANIFEST_SEEN, S_MANIFEST_GET, S_MANIFEST_ASSETS,
    S_FINDING_OPEN, S_FINDING_PUT, S_FINDING_CLOSE, S_FINDING_SEEN, S_FINDING_BY_ASSET, S_FINDING_BY_VULN,
    S_FINDING_SUMMARY, S_FINDING_AFFECTED, S_MANIFEST_COUNT,
    STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [S_EPOCH_GET]     = "SELECT value FROM meta WHERE key = 'auth_epoch'",
    [S_EPOCH_BUMP]    = "UPDATE meta SET value = value + 1 WHERE key = 'auth_epoch'",
    [S_USER_ADD]      = "INSERT INTO users(name, pwhash, role, created_ms) VALUES ($1, $2, $3, $4)",
    [S_USER_GET]      = "SELECT " USER_COLS " FROM users WHERE name = $1",
    [S_USER_GET_LOCK] = "SELECT " USER_COLS " FROM users WHERE name = $1 FOR UPDATE",
    [S_USER_LIST]     = "SELECT " USER_COLS " FROM users ORDER BY name COLLATE \"C\"",
    [S_USER_SET_PW]   = "UPDATE users SET pwhash = $2, failed_count = 0, failed_since_ms = 0,"
                        " locked_until_ms = 0 WHERE name = $1",
    [S_USER_SET_ROLE] = "UPDATE users SET role = $2 WHERE name = $1",
    [S_USER_DEL]      = "DELETE FROM users WHERE name = $1",
    [S_USER_LOCK_SET] = "UPDATE users SET failed_count = $2, failed_since_ms = $3,"
                        " locked_until_ms = $4 WHERE name = $1",
    [S_USER_LOGIN_OK] = "UPDATE users SET failed_count = 0, failed_since_ms = 0,"
                        " locked_until_ms = 0 WHERE name = $1",
    [S_ASSET_ADD]     = "INSERT INTO assets(" ASSET_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                        " $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    [S_ASSET_GET]     = "SELECT " ASSET_COLS " FROM assets WHERE id = $1",
    [S_ASSET_LIST]    = "SELECT " ASSET_COLS " FROM assets ORDER BY id",
    [S_ASSET_MODULES] = "SELECT modules FROM assets WHERE id = $1",
    /* one above the largest id, never below the first; when the largest is INT64_MAX,
     * the lowest free id from the first one */
    [S_ASSET_NEXT_ID] = "SELECT CASE"
                        " WHEN coalesce(max(id), 0) < 9223372036854775807"
                        "  THEN greatest(coalesce(max(id), 0) + 1, $1::bigint)"
                        " WHEN NOT EXISTS (SELECT 1 FROM assets WHERE id = $1::bigint) THEN $1::bigint"
                        " ELSE (SELECT min(a.id) + 1 FROM assets a WHERE a.id >= $1::bigint"
                        "  AND a.id < 9223372036854775807"
                        "  AND NOT EXISTS (SELECT 1 FROM assets b WHERE b.id = a.id + 1)) END"
                        " FROM assets",
    [S_ASSET_CHECKIN] = "UPDATE assets SET last_checkin_ms = $2,"
                        " agent_version = coalesce($3, agent_version),"
                        " last_address = coalesce($4, last_address) WHERE id = $1",
    [S_ASSET_SET_PROFILE] = "UPDATE assets SET profile_id = $2, updated_ms = $3 WHERE id = $1",
    [S_ASSET_MODULES_LOCK] = "SELECT modules FROM assets WHERE id = $1 FOR UPDATE",
    [S_ASSET_SET_MODULES] = "UPDATE assets SET modules = $2, updated_ms = $3 WHERE id = $1",
    [S_JOB_FIND]      = "SELECT id FROM jobs WHERE asset_id = $1 AND scan_type = $2"
                        " AND override_cpu = $3 AND state IN (0, 1, 2)",
    /* no row back: an identical active job exists (maybe committed by another node
     * while this insert waited for it) */
    [S_JOB_INSERT]    = "INSERT INTO jobs(asset_id, scan_type, override_cpu, state, requested_by,"
                        " requested_from, created_ms, updated_ms)"
                        " VALUES ($1, $2, $3, 0, $4, $5, $6, $6)"
                        " ON CONFLICT (asset_id, scan_type, override_cpu) WHERE state IN (0, 1, 2)"
                        " DO NOTHING RETURNING id",
    [S_JOB_GET]       = "SELECT " JOB_COLS " FROM jobs WHERE id = $1",
    [S_JOB_GET_LOCK]  = "SELECT " JOB_COLS " FROM jobs WHERE id = $1 FOR UPDATE",
    [S_JOB_LIST_ALL]  = "SELECT " JOB_COLS " FROM jobs ORDER BY id DESC",
    [S_JOB_LIST_ASSET]= "SELECT " JOB_COLS " FROM jobs WHERE asset_id = $1 ORDER BY id DESC",
    /* a job another node is handing out right now is skipped, never handed out twice */
    [S_JOB_QUEUED]    = "SELECT id, scan_type FROM jobs WHERE asset_id = $1 AND state = 0"
                        " ORDER BY id FOR UPDATE SKIP LOCKED",
    [S_JOB_DISPATCH]  = "UPDATE jobs SET state = 1, dispatched_ms = $2, updated_ms = $2,"
                        " lease_deadline_ms = $3, attempts = attempts + 1"
                        " WHERE id = $1 AND state = 0 RETURNING " JOB_COLS,
    /* SET expressions see the old row: a second START keeps the first start time */
    [S_JOB_START]     = "UPDATE jobs SET state = 2,"
                        " started_ms = CASE WHEN state = 2 THEN started_ms ELSE $2::bigint END,"
                        " updated_ms = CASE WHEN state = 2 THEN updated_ms ELSE $2::bigint END,"
                        " lease_deadline_ms = $3, cpu_applied = $4 WHERE id = $1",
    [S_JOB_RENEW]     = "UPDATE jobs SET lease_deadline_ms = $2 WHERE id = $1",
    [S_JOB_FINISH]    = "UPDATE jobs SET state = $2, finished_ms = $3, updated_ms = $3,"
                        " lease_deadline_ms = 0, reason = $4 WHERE id = $1",
    [S_SWEEP_REQUEUE] = "WITH r AS (UPDATE jobs SET state = 0, lease_deadline_ms = 0,"
                        " updated_ms = $1 WHERE state IN (1, 2) AND lease_deadline_ms <= $1"
                        " RETURNING asset_id)"
                        " SELECT asset_id, count(*) FROM r GROUP BY asset_id ORDER BY asset_id",
    [S_SWEEP_EXPIRE]  = "UPDATE jobs SET state = 5, finished_ms = $1, updated_ms = $1,"
                        " reason = '" EXPIRED_REASON "' WHERE state = 0 AND created_ms < $2",
    [S_NOTIFY]        = "SELECT pg_notify('" NOTIFY_CHANNEL "', $1)",
    [S_RESULT_ADD]    = "INSERT INTO job_results(job_id, asset_id, scan_type, document, created_ms)"
                        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id) DO NOTHING",
    [S_RESULT_GET]    = "SELECT document FROM job_results WHERE job_id = $1",
    [S_INVENTORY_SET] = "INSERT INTO inventory(asset_id, job_id, collected_ms, document)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT (asset_id) DO UPDATE SET"
                        " job_id = excluded.job_id, collected_ms = excluded.collected_ms,"
                        " document = excluded.document",
    [S_INVENTORY_GET] = "SELECT document, job_id, collected_ms FROM inventory WHERE asset_id = $1",
    [S_HISTORY_ADD]   = "INSERT INTO inventory_history(asset_id, job_id, at_ms) VALUES ($1, $2, $3)",
    [S_HISTORY_LIST]  = "SELECT at_ms FROM inventory_history WHERE asset_id = $1"
                        " ORDER BY at_ms DESC, id DESC LIMIT $2",
    [S_KEY_ADD]       = "INSERT INTO actkeys(token, name, modules, max_uses, expires_ms, revoked,"
                        " created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    [S_KEY_LIST]      = "SELECT " KEY_COLS " FROM actkeys ORDER BY id",
    /* locked: two nodes enrolling with a key of one use left count both uses */
    [S_KEY_GET_LOCK]  = "SELECT " KEY_COLS " FROM actkeys WHERE token = $1 FOR UPDATE",
    [S_KEY_USE]       = "UPDATE actkeys SET uses = uses + 1 WHERE id = $1",
    [S_KEY_REVOKE]    = "UPDATE actkeys SET revoked = 1 WHERE token = $1 OR (name = $1 AND name <> '')",
    [S_KEY_GET_ID]    = "SELECT " KEY_COLS " FROM actkeys WHERE id = $1",
    [S_KEY_UPDATE]    = "UPDATE actkeys SET name = $2, modules = $3, max_uses = $4, expires_ms = $5,"
                        " revoked = $6 WHERE id = $1",
    [S_KEY_UNLINK]    = "UPDATE assets SET key_id = NULL WHERE key_id = $1",
    [S_KEY_DEL]       = "DELETE FROM actkeys WHERE id = $1",
    [S_KEY_TAGS_CLEAR]= "DELETE FROM key_tags WHERE key_id = $1",
    [S_KEY_TAG_ADD]   = "INSERT INTO key_tags(key_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [S_KEY_TAGS]      = "SELECT " TAG_COLS_T " FROM key_tags k JOIN tags t ON t.id = k.tag_id"
                        " WHERE k.key_id = $1 ORDER BY t.name COLLATE \"C\"",
    [S_ENROLL_TAGS]   = "INSERT INTO asset_tags(asset_id, tag_id) SELECT $1, tag_id FROM key_tags"
                        " WHERE key_id = $2 ON CONFLICT DO NOTHING",
    [S_TAG_ADD]       = "INSERT INTO tags(name, created_ms) VALUES ($1, $2) RETURNING id",
    [S_TAG_GET]       = "SELECT " TAG_COLS " FROM tags WHERE name = $1",
    [S_TAG_GET_ID]    = "SELECT " TAG_COLS " FROM tags WHERE id = $1",
    /* case-insensitive "contains"; NULL lists every tag */
    [S_TAG_LIST]      = "SELECT " TAG_COLS " FROM tags WHERE $1::text IS NULL"
                        " OR strpos(lower(name), lower($1::text)) > 0 ORDER BY name COLLATE \"C\"",
    [S_TAG_RENAME]    = "UPDATE tags SET name = $2 WHERE id = $1",
    [S_TAG_SCOPED]    = "SELECT count(*) FROM user_scopes WHERE tag_id = $1",
    [S_TAG_DEL]       = "DELETE FROM tags WHERE id = $1",
    [S_TAG_ASSIGN]    = "INSERT INTO asset_tags(asset_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [S_TAG_UNASSIGN]  = "DELETE FROM asset_tags WHERE asset_id = $1 AND tag_id = $2",
    [S_ASSET_TAGS]    = "SELECT " TAG_COLS_T " FROM asset_tags a JOIN tags t ON t.id = a.tag_id"
                        " WHERE a.asset_id = $1 ORDER BY t.name COLLATE \"C\"",
    /* locked: a tag is not put on an asset being deleted */
    [S_ASSET_EXISTS]  = "SELECT id FROM assets WHERE id = $1 FOR SHARE",
    [S_USER_ID]       = "SELECT id FROM users WHERE name = $1 FOR UPDATE",
    [S_SCOPE_CLEAR]   = "DELETE FROM user_scopes WHERE user_id = $1",
    [S_SCOPE_ADD]     = "INSERT INTO user_scopes(user_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [S_SCOPE_LIST]    = "SELECT " TAG_COLS_T " FROM user_scopes s JOIN tags t ON t.id = s.tag_id"
                        " JOIN users u ON u.id = s.user_id WHERE u.name = $1"
                        " ORDER BY t.name COLLATE \"C\"",
    [S_LIMITS_SET]    = "INSERT INTO user_limits(user_id, calls, window_s, concurrency)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET"
                        " calls = excluded.calls, window_s = excluded.window_s,"
                        " concurrency = excluded.concurrency",
    [S_LIMITS_GET]    = "SELECT coalesce(l.calls, 0), coalesce(l.window_s, 0),"
                        " coalesce(l.concurrency, 0) FROM users u"
                        " LEFT JOIN user_limits l ON l.user_id = u.id WHERE u.name = $1",
    [S_AGENT_ADD]     = "INSERT INTO agents(" AGENT_COLS ") VALUES ($1, $2, $3, $4)",
    [S_AGENT_GET]     = "SELECT " AGENT_COLS " FROM agents WHERE uuid = $1",
    [S_PROFILE_ADD]   = "INSERT INTO profiles(name, os_family, is_default, cpu_limit, cpu_throttle,"
                        " checkin_hold_s, lease_s, max_concurrent)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    [S_PROFILE_LIST]  = "SELECT " PROFILE_COLS " FROM profiles ORDER BY id",
    [S_PROFILE_GET]   = "SELECT " PROFILE_COLS " FROM profiles WHERE name = $1",
    /* its own profile, else its OS family's default, else the linux default */
    [S_PROFILE_FOR_ASSET] =
        "SELECT " PROFILE_COLS " FROM ("
        " SELECT p.*, 0 AS rank FROM assets a JOIN profiles p ON p.id = a.profile_id"
        "  WHERE a.id = $1"
        " UNION ALL SELECT p.*, 1 FROM assets a JOIN profiles p"
        "  ON p.is_default <> 0 AND p.os_family = a.os_family WHERE a.id = $1"
        " UNION ALL SELECT p.*, 2 FROM assets a JOIN profiles p"
        "  ON p.is_default <> 0 AND p.os_family = 'linux' WHERE a.id = $1) AS c"
        " ORDER BY rank LIMIT 1",
    [S_AUDIT_ADD]     = "INSERT INTO audit(at_ms, \"user\", remote, action, target, result, detail)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [S_AUDIT_LIST]    = "SELECT " AUDIT_COLS " FROM audit ORDER BY id DESC LIMIT $1",
    [S_LOCK_ENROLL]   = "SELECT pg_advisory_xact_lock(" LOCK_ENROLL ")",
    [S_KB_GET]        = "SELECT modified_ms, document FROM advisories WHERE id = $1 FOR UPDATE",
    [S_KB_PUT]        = "INSERT INTO advisories(id, modified_ms, document, imported_ms)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET"
                        " modified_ms = excluded.modified_ms, document = excluded.document,"
                        " imported_ms = excluded.imported_ms",
    [S_KB_ALIAS_DEL]  = "DELETE FROM advisory_aliases WHERE advisory_id = $1",
    [S_KB_ALIAS_ADD]  = "INSERT INTO advisory_aliases(alias, advisory_id) VALUES ($1, $2)"
                        " ON CONFLICT DO NOTHING",
    [S_KB_EPOCH_GET]  = "SELECT value FROM meta WHERE key = 'kb_epoch'",
    [S_KB_EPOCH_BUMP] = "UPDATE meta SET value = value + 1 WHERE key = 'kb_epoch'",
    [S_KB_COUNT]      = "SELECT count(*) FROM advisories",
    [S_KB_EACH]       = "SELECT id, document FROM advisories ORDER BY id COLLATE \"C\"",
    [S_KB_CLAIM]      = "UPDATE meta SET value = $1 WHERE key = 'kb_assessed_epoch' AND value < $1",
    [S_MANIFEST_HASH] = "SELECT hash FROM vuln_manifests WHERE asset_id = $1",
    [S_MANIFEST_SET]  = "INSERT INTO vuln_manifests(asset_id, job_id, hash, document, collected_ms,"
                        " scanned_ms) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (asset_id) DO UPDATE SET"
                        " job_id = excluded.job_id, hash = excluded.hash, document = excluded.document,"
                        " collected_ms = excluded.collected_ms, scanned_ms = excluded.scanned_ms",
    [S_MANIFEST_SEEN] = "UPDATE vuln_manifests SET scanned_ms = $2 WHERE asset_id = $1",
    [S_MANIFEST_GET]  = "SELECT document, hash, scanned_ms FROM vuln_manifests WHERE asset_id = $1",
    [S_MANIFEST_ASSETS] = "SELECT asset_id FROM vuln_manifests ORDER BY asset_id",
    /* the stale column (migration 4) is no longer used: findings_diff finds the gone */
    [S_FINDING_OPEN]  = "SELECT " FINDING_COLS " FROM vuln_findings WHERE asset_id = $1"
                        " AND fixed_ms = 0",
    [S_FINDING_PUT]   = "INSERT INTO vuln_findings(asset_id, advisory_id, package, aliases,"
                        " installed_version, fixed_version, severity, score10, first_seen_ms,"
                        " last_seen_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
                        " ON CONFLICT (asset_id, advisory_id, package) DO UPDATE SET"
                        " aliases = excluded.aliases, installed_version = excluded.installed_version,"
                        " fixed_version = excluded.fixed_version, severity = excluded.severity,"
                        " score10 = excluded.score10, last_seen_ms = excluded.last_seen_ms,"
                        " fixed_ms = 0, stale = 0",
    [S_FINDING_CLOSE] = "UPDATE vuln_findings SET fixed_ms = $4"
                        " WHERE asset_id = $1 AND advisory_id = $2 AND package = $3",
    [S_FINDING_SEEN]  = "UPDATE vuln_findings SET last_seen_ms = $2"
                        " WHERE asset_id = $1 AND fixed_ms = 0 AND last_seen_ms <> $2",
    [S_FINDING_BY_ASSET] = "SELECT " FINDING_COLS " FROM vuln_findings WHERE asset_id = $1"
                        FINDING_FILTER " ORDER BY score10 DESC, advisory_id COLLATE \"C\","
                        " package COLLATE \"C\" LIMIT $5::bigint",
    [S_FINDING_BY_VULN] = "SELECT " FINDING_COLS " FROM vuln_findings WHERE (advisory_id = $1"
                        " OR advisory_id IN (SELECT advisory_id FROM advisory_aliases WHERE alias = $1))"
                        FINDING_FILTER " ORDER BY asset_id, score10 DESC, advisory_id COLLATE \"C\","
                        " package COLLATE \"C\" LIMIT $5::bigint",
    [S_FINDING_SUMMARY] = "SELECT severity, sum(CASE WHEN fixed_ms = 0 THEN 1 ELSE 0 END),"
                        " sum(CASE WHEN fixed_ms <> 0 THEN 1 ELSE 0 END),"
                        " count(DISTINCT CASE WHEN fixed_ms = 0 THEN asset_id END)"
                        " FROM vuln_findings GROUP BY severity ORDER BY severity COLLATE \"C\"",
    [S_FINDING_AFFECTED] = "SELECT count(DISTINCT asset_id) FROM vuln_findings WHERE fixed_ms = 0",
    [S_MANIFEST_COUNT] = "SELECT count(*) FROM vuln_manifests",
};

struct conn {
    pthread_mutex_t lock;
    PGconn         *pg;
    bool            prepared[STMT_COUNT];   /* prepared on first use on this session */
    int64_t         next_try_ms;            /* no reconnect before (monotonic) */
    int64_t         backoff_ms;             /* 0 after a good connection */
};

struct pg_store {
    struct store       base;                /* first: store_t * converts to this handle */
    char              *conninfo;
    struct conn        conns[POOL_SIZE];
    int                nconns;              /* connections fully set up */
    atomic_uint        next;                /* round-robin start for conn_acquire */
    /* the job-event listener */
    pthread_t          watcher;
    bool               watching;
    atomic_bool        stop;
    PGconn            *listen_pg;           /* owned by the watcher once it runs */
    store_job_event_fn cb;
    void              *cb_ctx;
};

/* Parameters of one statement, in the text format except documents (binary text:
 * raw bytes with a length, no NUL needed). Text is copied into the arena with every
 * byte that is not valid UTF-8 replaced by '?': PostgreSQL refuses such text and one
 * bad check-in must not sink its whole batch. */
struct args {
    int         n;
    bool        overflow;
    const char *v[ARGS_MAX];
    int         len[ARGS_MAX];
    int         fmt[ARGS_MAX];
    size_t      used;
    char        arena[ARGS_ARENA];
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

/* SQLSTATE classes that mean the session is gone or going (connection exceptions,
 * operator intervention: shutdown, crash, cannot connect now). */
static const char *const lost_states[] = { "08", "57P01", "57P02", "57P03" };
/* SQLSTATEs after which the whole transaction may simply run again. */
static const char *const retry_states[] = { "40001", "40P01" };

static const struct store_ops pg_ops;

static struct pg_store *
pq(store_t *st)
{
    return (struct pg_store *)st;
}

/* --- parameters ------------------------------------------------------------------- */

/* utf8_len returns the length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        need = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        need = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        need = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (need > n)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* utf8_valid tells whether n bytes are valid UTF-8 without NUL (what TEXT accepts). */
static bool
utf8_valid(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t k = s[i] == '\0' ? 0 : utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static void
args_init(struct args *a)
{
    a->n = 0;
    a->overflow = false;
    a->used = 0;
}

static void
arg_raw(struct args *a, const char *v, int len, int fmt)
{
    if (a->n >= ARGS_MAX) {
        a->overflow = true;
        return;
    }
    a->v[a->n] = v;
    a->len[a->n] = len;
    a->fmt[a->n] = fmt;
    a->n++;
}

static void
arg_null(struct args *a)
{
    arg_raw(a, NULL, 0, 0);
}

static void
arg_i64(struct args *a, int64_t v)
{
    char *dst = a->arena + a->used;
    size_t room = sizeof(a->arena) - a->used;
    int len = snprintf(dst, room, "%lld", (long long)v);

    if (len < 0 || (size_t)len >= room) {
        a->overflow = true;
        return;
    }
    a->used += (size_t)len + 1;
    arg_raw(a, dst, len, 0);
}

/* arg_text_n copies n bytes of s (NULL: '') as text; see struct args. */
static void
arg_text_n(struct args *a, const char *s, size_t n)
{
    char *dst = a->arena + a->used;
    size_t room = sizeof(a->arena) - a->used, i = 0, o = 0;

    if (s == NULL)
        n = 0;
    if (n >= room) {
        a->overflow = true;
        return;
    }
    while (i < n) {
        size_t k = utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0) {
            dst[o++] = '?';
            i++;
            continue;
        }
        memcpy(dst + o, s + i, k);
        o += k;
        i += k;
    }
    dst[o] = '\0';
    a->used += o + 1;
    arg_raw(a, dst, (int)o, 0);
}

static void
arg_text(struct args *a, const char *s)
{
    arg_text_n(a, s, s != NULL ? strlen(s) : 0);
}

/* text_fit returns how many bytes of s fit a field of max bytes with its NUL, cut
 * before a UTF-8 continuation byte so the kept prefix stays valid text. */
static size_t
text_fit(const char *s, size_t max)
{
    size_t len = strnlen(s, max);

    if (len < max)
        return len;
    len = max - 1;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return len;
}

/* arg_text_fit binds s cut to a field of max bytes (see text_fit); NULL binds ''. */
static void
arg_text_fit(struct args *a, const char *s, size_t max)
{
    if (s == NULL)
        s = "";
    arg_text_n(a, s, text_fit(s, max));
}

/* arg_doc binds a document of len bytes in place (binary format: not copied, no NUL
 * needed); the caller checked it with utf8_valid. */
static void
arg_doc(struct args *a, const char *doc, size_t len)
{
    if (len > INT32_MAX) {
        a->overflow = true;
        return;
    }
    arg_raw(a, doc != NULL ? doc : "", (int)len, 1);
}

/* --- connections ------------------------------------------------------------------ */

static int
state_in(const char *state, const char *const *list, size_t n)
{
    if (state == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(state, list[i], strlen(list[i])) == 0)
            return 1;
    return 0;
}

/* result_code maps a failed result (may be NULL) of connection pg to a store code:
 * ODS_E_UNAVAILABLE when the session is lost, ODS_E_EXISTS for a unique violation,
 * ODS_E_BUSY for a serialization failure or deadlock, else ODS_E_STORE. */
static int
result_code(PGconn *pg, const PGresult *res)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    if (res == NULL || PQstatus(pg) != CONNECTION_OK ||
        state_in(state, lost_states, sizeof(lost_states) / sizeof(lost_states[0])))
        return ODS_E_UNAVAILABLE;
    if (state != NULL && strcmp(state, "23505") == 0)
        return ODS_E_EXISTS;
    if (state_in(state, retry_states, sizeof(retry_states) / sizeof(retry_states[0])))
        return ODS_E_BUSY;
    return ODS_E_STORE;
}

static int
result_ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);

    return res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

/* pg_connect opens a session on conninfo: a URI or keyword string, with defaults the
 * string may override: a connect timeout, an application name, and TCP keepalives that
 * notice a vanished server (a failed-over primary) within about half a minute instead
 * of the system's two hours. NULL only without memory. */
static PGconn *
pg_connect(const char *conninfo)
{
    const char *const keys[] = { "connect_timeout", "application_name", "keepalives_idle",
        "keepalives_interval", "keepalives_count", "dbname", NULL };
    const char *const vals[] = { CONNECT_TIMEOUT_S, "odscan", "10", "5", "3", conninfo, NULL };

    return PQconnectdbParams(keys, vals, 1);
}

/* quiet drops the server's notices ("relation already exists, skipping"): a store
 * never writes to stderr. Kept by PQreset. */
static void
quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* session_setup checks a fresh session: the durability promise needs
 * synchronous_commit other than off. */
static int
session_setup(PGconn *pg, const char **reason)
{
    int rc = ODS_E_OK;

    PQsetNoticeProcessor(pg, quiet, NULL);
    PGresult *res = PQexec(pg, "SHOW synchronous_commit");
    if (!result_ok(res) || PQntuples(res) != 1) {
        rc = result_code(pg, res);
        *reason = store_err_set("SHOW synchronous_commit: %s", PQerrorMessage(pg));
    } else if (strcmp(PQgetvalue(res, 0, 0), "off") == 0) {
        rc = ODS_E_STORE;
        *reason = store_err_set("synchronous_commit is off: an acknowledged job could be lost;"
            " set it to on");
    }
    PQclear(res);
    return rc;
}

static int
conn_open(struct conn *c, const char *conninfo, const char **reason)
{
    PGconn *pg = pg_connect(conninfo);
    int rc;

    if (pg == NULL) {
        *reason = store_err_set("out of memory");
        return ODS_E_NOMEM;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        /* the message ends with a newline */
        *reason = store_err_set("cannot connect to PostgreSQL: %.*s",
            (int)strcspn(PQerrorMessage(pg), "\n"), PQerrorMessage(pg));
        PQfinish(pg);
        return ODS_E_UNAVAILABLE;
    }
    if ((rc = session_setup(pg, reason)) != ODS_E_OK) {
        PQfinish(pg);
        return rc;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        *reason = store_err_set("cannot create a connection mutex");
        PQfinish(pg);
        return ODS_E_NOMEM;
    }
    c->pg = pg;
    return ODS_E_OK;
}

static void
conn_close(struct conn *c)
{
    PQfinish(c->pg);
    pthread_mutex_destroy(&c->lock);
}

/* conn_revive reconnects a lost session, at most once per backoff step (250 ms
 * doubling to 4 s). Returns 0 when the connection is usable, else ODS_E_UNAVAILABLE. */
static int
conn_revive(struct conn *c)
{
    int64_t now = mono_ms();

    if (PQstatus(c->pg) == CONNECTION_OK)
        return ODS_E_OK;
    if (now < c->next_try_ms)
        return ODS_E_UNAVAILABLE;
    PQreset(c->pg);
    memset(c->prepared, 0, sizeof(c->prepared));
    if (PQstatus(c->pg) == CONNECTION_OK) {
        c->backoff_ms = 0;
        c->next_try_ms = 0;
        return ODS_E_OK;
    }
    c->backoff_ms = c->backoff_ms == 0 ? RECONNECT_MIN_MS :
        (c->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : c->backoff_ms * 2);
    c->next_try_ms = now + c->backoff_ms;
    return ODS_E_UNAVAILABLE;
}

/* conn_acquire hands out a free connection, or waits for one; pair with conn_release. */
static struct conn *
conn_acquire(store_t *st)
{
    struct pg_store *s = pq(st);
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

/* conn_release rolls back a transaction a caller failed to finish, then frees the
 * connection. */
static void
conn_release(struct conn *c)
{
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);

    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    pthread_mutex_unlock(&c->lock);
}

/* exec_simple runs a statement without parameters (BEGIN, COMMIT, ...). */
static int
exec_simple(struct conn *c, const char *sql)
{
    PGresult *res = PQexec(c->pg, sql);
    int rc = result_ok(res) ? ODS_E_OK : result_code(c->pg, res);

    PQclear(res);
    return rc;
}

/* prepare makes statement id known to this session under the name "sN". */
static int
prepare(struct conn *c, enum stmt_id id, char *name, size_t n)
{
    int len = snprintf(name, n, "s%d", (int)id);

    if (len < 0 || (size_t)len >= n)
        return ODS_E_TOOBIG;
    if (c->prepared[id])
        return ODS_E_OK;
    PGresult *res = PQprepare(c->pg, name, stmt_sql[id], 0, NULL);
    int rc = result_ok(res) ? ODS_E_OK : result_code(c->pg, res);
    PQclear(res);
    if (rc == ODS_E_OK)
        c->prepared[id] = true;
    return rc;
}

/* run_once executes prepared statement id with a. On success *out (when non-NULL)
 * gets the result, which the caller clears. */
static int
run_once(struct conn *c, enum stmt_id id, const struct args *a, PGresult **out)
{
    char name[16];
    int rc;

    if ((rc = prepare(c, id, name, sizeof(name))) != ODS_E_OK)
        return rc;
    PGresult *res = PQexecPrepared(c->pg, name, a != NULL ? a->n : 0, a != NULL ? a->v : NULL,
        a != NULL ? a->len : NULL, a != NULL ? a->fmt : NULL, 0);
    if (!result_ok(res)) {
        rc = result_code(c->pg, res);
        PQclear(res);
        return rc;
    }
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return ODS_E_OK;
}

/* run executes statement id. Outside a transaction a read that finds its session lost
 * reconnects (see conn_revive) and runs once more: a pooled session may have died
 * while idle, and reading twice is harmless. Writes are never repeated here. */
static int
run(struct conn *c, enum stmt_id id, const struct args *a, PGresult **out)
{
    bool idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (a != NULL && a->overflow)
        return ODS_E_TOOBIG;
    if (PQstatus(c->pg) != CONNECTION_OK && conn_revive(c) != ODS_E_OK)
        return ODS_E_UNAVAILABLE;
    rc = run_once(c, id, a, out);
    if (rc == ODS_E_UNAVAILABLE && idle && strncmp(stmt_sql[id], "SELECT", 6) == 0 &&
        conn_revive(c) == ODS_E_OK)
        rc = run_once(c, id, a, out);
    return rc;
}

/* changed runs a write and reports how many rows it touched through *n. */
static int
run_changed(struct conn *c, enum stmt_id id, const struct args *a, int64_t *n)
{
    PGresult *res = NULL;
    int rc = run(c, id, a, &res);

    if (rc == ODS_E_OK)
        *n = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rc;
}

/* tx_begin starts a transaction; a session found lost at BEGIN is revived once, since
 * nothing was sent yet. */
static int
tx_begin(struct conn *c)
{
    int rc;

    if (PQstatus(c->pg) != CONNECTION_OK && conn_revive(c) != ODS_E_OK)
        return ODS_E_UNAVAILABLE;
    rc = exec_simple(c, "BEGIN");
    if (rc == ODS_E_UNAVAILABLE && conn_revive(c) == ODS_E_OK)
        rc = exec_simple(c, "BEGIN");
    return rc;
}

/* tx_finish commits when rc is 0, else rolls back. Returns rc, or the COMMIT's failure:
 * ODS_E_UNAVAILABLE when the session died during it (the outcome is unknown, so it is
 * not a success), ODS_E_BUSY for a serialization failure, else ODS_E_STORE. */
static int
tx_finish(struct conn *c, int rc)
{
    if (rc == ODS_E_OK) {
        PGresult *res = PQexec(c->pg, "COMMIT");
        /* COMMIT of a failed transaction answers ROLLBACK: check the tag */
        if (result_ok(res) && strcmp(PQcmdStatus(res), "COMMIT") == 0)
            rc = ODS_E_OK;
        else if (result_ok(res))
            rc = ODS_E_STORE;
        else
            rc = result_code(c->pg, res);
        PQclear(res);
        if (rc == ODS_E_EXISTS)
            rc = ODS_E_STORE;   /* a deferred constraint: nothing was written */
        return rc;
    }
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE && PQstatus(c->pg) == CONNECTION_OK)
        (void)exec_simple(c, "ROLLBACK");
    return rc;
}

/* --- rows ------------------------------------------------------------------------- */

static int64_t
col_i64(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int
col_int(const PGresult *res, int row, int col)
{
    int64_t v = col_i64(res, row, col);

    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

static void
col_text(const PGresult *res, int row, int col, char *dst, size_t n)
{
    /* writers refuse strings longer than the record fields, so this never truncates */
    (void)str_copy(dst, n, PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

typedef void (*row_reader)(const PGresult *res, int row, void *record);

static void
user_read(const PGresult *res, int r, void *record)
{
    struct user *u = record;

    u->id = col_i64(res, r, 0);
    col_text(res, r, 1, u->name, sizeof(u->name));
    col_text(res, r, 2, u->pwhash, sizeof(u->pwhash));
    u->role = col_int(res, r, 3);
    u->created_ms = col_i64(res, r, 4);
    u->failed_count = col_int(res, r, 5);
    u->failed_since_ms = col_i64(res, r, 6);
    u->locked_until_ms = col_i64(res, r, 7);
}

static void
asset_read(const PGresult *res, int r, void *record)
{
    struct asset *a = record;

    a->id = col_i64(res, r, 0);
    col_text(res, r, 1, a->agent_uuid, sizeof(a->agent_uuid));
    col_text(res, r, 2, a->hostname, sizeof(a->hostname));
    col_text(res, r, 3, a->os_family, sizeof(a->os_family));
    a->modules = (unsigned)col_i64(res, r, 4);
    a->created_ms = col_i64(res, r, 5);
    a->updated_ms = col_i64(res, r, 6);
    a->last_checkin_ms = col_i64(res, r, 7);
    col_text(res, r, 8, a->fqdn, sizeof(a->fqdn));
    col_text(res, r, 9, a->os_name, sizeof(a->os_name));
    col_text(res, r, 10, a->os_version, sizeof(a->os_version));
    col_text(res, r, 11, a->arch, sizeof(a->arch));
    col_text(res, r, 12, a->machine_id, sizeof(a->machine_id));
    col_text(res, r, 13, a->agent_version, sizeof(a->agent_version));
    col_text(res, r, 14, a->last_address, sizeof(a->last_address));
    a->profile_id = col_i64(res, r, 15);     /* NULL reads as 0 */
    a->key_id = col_i64(res, r, 16);
}

static void
job_read(const PGresult *res, int r, void *record)
{
    struct job *j = record;

    j->id = col_i64(res, r, 0);
    j->asset_id = col_i64(res, r, 1);
    j->scan_type = col_int(res, r, 2);
    j->override_cpu = col_i64(res, r, 3) != 0;
    j->state = col_int(res, r, 4);
    col_text(res, r, 5, j->requested_by, sizeof(j->requested_by));
    col_text(res, r, 6, j->requested_from, sizeof(j->requested_from));
    j->created_ms = col_i64(res, r, 7);
    j->updated_ms = col_i64(res, r, 8);
    j->dispatched_ms = col_i64(res, r, 9);
    j->started_ms = col_i64(res, r, 10);
    j->finished_ms = col_i64(res, r, 11);
    j->lease_deadline_ms = col_i64(res, r, 12);
    j->attempts = col_int(res, r, 13);
    col_text(res, r, 14, j->cpu_applied, sizeof(j->cpu_applied));
    col_text(res, r, 15, j->reason, sizeof(j->reason));
}

static void
key_read(const PGresult *res, int r, void *record)
{
    struct actkey *k = record;

    k->id = col_i64(res, r, 0);
    col_text(res, r, 1, k->token, sizeof(k->token));
    col_text(res, r, 2, k->name, sizeof(k->name));
    k->modules = (unsigned)col_i64(res, r, 3);
    k->max_uses = col_int(res, r, 4);
    k->uses = col_int(res, r, 5);
    k->expires_ms = col_i64(res, r, 6);
    k->revoked = col_i64(res, r, 7) != 0;
    k->created_ms = col_i64(res, r, 8);
}

static void
tag_read(const PGresult *res, int r, void *record)
{
    struct tag *t = record;

    t->id = col_i64(res, r, 0);
    col_text(res, r, 1, t->name, sizeof(t->name));
    t->created_ms = col_i64(res, r, 2);
}

static void
limits_read(const PGresult *res, int r, void *record)
{
    struct user_limits *l = record;

    l->calls = col_int(res, r, 0);
    l->window_s = col_int(res, r, 1);
    l->concurrency = col_int(res, r, 2);
}

static void
agent_read(const PGresult *res, int r, void *record)
{
    struct agent *a = record;

    col_text(res, r, 0, a->uuid, sizeof(a->uuid));
    a->asset_id = col_i64(res, r, 1);
    col_text(res, r, 2, a->secret_hash, sizeof(a->secret_hash));
    a->enrolled_ms = col_i64(res, r, 3);
}

static void
profile_read(const PGresult *res, int r, void *record)
{
    struct profile *p = record;

    p->id = col_i64(res, r, 0);
    col_text(res, r, 1, p->name, sizeof(p->name));
    col_text(res, r, 2, p->os_family, sizeof(p->os_family));
    p->is_default = col_i64(res, r, 3) != 0;
    p->cpu_limit = col_int(res, r, 4);
    p->cpu_throttle = col_int(res, r, 5);
    p->checkin_hold_s = col_int(res, r, 6);
    p->lease_s = col_int(res, r, 7);
    p->max_concurrent = col_int(res, r, 8);
}

static void
audit_read(const PGresult *res, int r, void *record)
{
    struct audit_entry *e = record;

    e->id = col_i64(res, r, 0);
    e->at_ms = col_i64(res, r, 1);
    col_text(res, r, 2, e->user, sizeof(e->user));
    col_text(res, r, 3, e->remote, sizeof(e->remote));
    col_text(res, r, 4, e->action, sizeof(e->action));
    col_text(res, r, 5, e->target, sizeof(e->target));
    col_text(res, r, 6, e->result, sizeof(e->result));
    col_text(res, r, 7, e->detail, sizeof(e->detail));
}

/* read_one runs statement id and reads its first row into record.
 * Returns 0, ODS_E_NOTFOUND or the statement's failure. */
static int
read_one(struct conn *c, enum stmt_id id, const struct args *a, row_reader read,
    void *record, size_t size)
{
    PGresult *res = NULL;
    int rc = run(c, id, a, &res);

    if (rc == ODS_E_OK) {
        if (PQntuples(res) > 0) {
            memset(record, 0, size);
            read(res, 0, record);
        } else {
            rc = ODS_E_NOTFOUND;
        }
    }
    PQclear(res);
    return rc;
}

/* read_all runs statement id and reads every row into one malloc'd array (caller frees
 * *out; NULL when there are no rows). Returns 0, ODS_E_NOMEM or the failure. */
static int
read_all(struct conn *c, enum stmt_id id, const struct args *a, row_reader read,
    size_t size, void **out, size_t *n)
{
    PGresult *res = NULL;
    int rc = run(c, id, a, &res);

    *out = NULL;
    *n = 0;
    if (rc != ODS_E_OK)
        goto out;
    int rows = PQntuples(res);
    if (rows > 0) {
        char *all = calloc((size_t)rows, size);
        if (all == NULL) {
            rc = ODS_E_NOMEM;
            goto out;
        }
        for (int i = 0; i < rows; i++)
            read(res, i, all + (size_t)i * size);
        *out = all;
        *n = (size_t)rows;
    }
out:
    PQclear(res);
    return rc;
}

/* list_store is read_all through a pooled connection. */
static int
list_store(store_t *st, enum stmt_id id, const struct args *a, row_reader read, size_t size,
    void **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    int rc = read_all(c, id, a, read, size, out, n);

    conn_release(c);
    return rc;
}

/* get_store is read_one through a pooled connection. */
static int
get_store(store_t *st, enum stmt_id id, const struct args *a, row_reader read, void *record,
    size_t size)
{
    struct conn *c = conn_acquire(st);
    int rc = read_one(c, id, a, read, record, size);

    conn_release(c);
    return rc;
}

/* --- migrations ------------------------------------------------------------------- */

/* migrate_tx runs inside the migration transaction, under the advisory lock. */
static int
migrate_tx(PGconn *pg, const char **reason)
{
    PGresult *res = PQexec(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, applied_at BIGINT)");
    int64_t have = 0;
    char sql[128];

    if (!result_ok(res))
        goto fail;
    PQclear(res);
    res = PQexec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!result_ok(res) || PQntuples(res) != 1)
        goto fail;
    have = col_i64(res, 0, 0);
    PQclear(res);
    res = NULL;
    if (have > MIGRATION_COUNT || have < 0) {
        *reason = store_err_set("database schema version %lld is %s this build's %d",
            (long long)have, have < 0 ? "not a version:" : "newer than", MIGRATION_COUNT);
        return ODS_E_STORE;
    }
    for (int v = (int)have + 1; v <= MIGRATION_COUNT; v++) {
        res = PQexec(pg, migrations[v - 1]);
        if (!result_ok(res)) {
            *reason = store_err_set("migration %d: %s", v, PQerrorMessage(pg));
            PQclear(res);
            return PQstatus(pg) != CONNECTION_OK ? ODS_E_UNAVAILABLE : ODS_E_STORE;
        }
        PQclear(res);
        int len = snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations(version, applied_at)"
            " VALUES (%d, %lld)", v, (long long)now_ms());
        if (len < 0 || (size_t)len >= sizeof(sql))
            return ODS_E_TOOBIG;
        res = PQexec(pg, sql);
        if (!result_ok(res))
            goto fail;
        PQclear(res);
        res = NULL;
    }
    return ODS_E_OK;
fail:
    *reason = store_err_set("schema_migrations: %s", PQerrorMessage(pg));
    PQclear(res);
    return PQstatus(pg) != CONNECTION_OK ? ODS_E_UNAVAILABLE : ODS_E_STORE;
}

/* migrate applies pending migrations in one transaction holding an advisory lock:
 * a second node starting at the same time waits, then finds them applied. */
static int
migrate(PGconn *pg, const char **reason)
{
    PGresult *res = PQexec(pg, "BEGIN");
    int rc = ODS_E_STORE;

    if (!result_ok(res)) {
        *reason = store_err_set("BEGIN: %s", PQerrorMessage(pg));
        goto out;
    }
    PQclear(res);
    res = PQexec(pg, "SELECT pg_advisory_xact_lock(" LOCK_MIGRATE ")");
    if (!result_ok(res)) {
        *reason = store_err_set("migration lock: %s", PQerrorMessage(pg));
        goto out;
    }
    PQclear(res);
    res = NULL;
    if ((rc = migrate_tx(pg, reason)) != ODS_E_OK)
        goto out;
    res = PQexec(pg, "COMMIT");
    if (!result_ok(res) || strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        *reason = store_err_set("COMMIT of migrations: %s", PQerrorMessage(pg));
        rc = ODS_E_STORE;
        goto out;
    }
    rc = ODS_E_OK;
out:
    if (rc != ODS_E_OK && PQstatus(pg) != CONNECTION_OK)
        rc = ODS_E_UNAVAILABLE;
    PQclear(res);
    if (PQtransactionStatus(pg) != PQTRANS_IDLE)
        PQclear(PQexec(pg, "ROLLBACK"));
    return rc;
}

/* --- open / close ----------------------------------------------------------------- */

static void
watch_stop(struct pg_store *s)
{
    if (s->watching) {
        atomic_store(&s->stop, true);
        pthread_join(s->watcher, NULL);
        s->watching = false;
    }
    PQfinish(s->listen_pg);
    s->listen_pg = NULL;
}

static void
pg_close(store_t *st)
{
    struct pg_store *s = pq(st);

    if (s == NULL)
        return;
    watch_stop(s);
    for (int i = 0; i < s->nconns; i++)
        conn_close(&s->conns[i]);
    free(s->conninfo);
    free(s);
}

int
store_pg_open(const char *conninfo, store_t **out, const char **err)
{
    struct pg_store *s = NULL;
    const char *reason = NULL;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
        reason = store_err_set("out of memory");
        rc = ODS_E_NOMEM;
        goto out;
    }
    s->base.ops = &pg_ops;
    atomic_init(&s->next, 0);
    atomic_init(&s->stop, false);
    for (int i = 0; i < POOL_SIZE; i++) {
        if ((rc = conn_open(&s->conns[i], conninfo, &reason)) != ODS_E_OK)
            goto out;
        s->nconns++;
        if (i == 0 && (rc = migrate(s->conns[0].pg, &reason)) != ODS_E_OK)
            goto out;
    }
    *out = &s->base;
    s = NULL;
    rc = ODS_E_OK;
out:
    if (s != NULL)
        pg_close(&s->base);
    if (rc != ODS_E_OK && err != NULL)
        *err = reason;
    return rc;
}

/* --- job events: LISTEN/NOTIFY ------------------------------------------------------ */

/* listen_open connects the listener's own session and subscribes; NULL on failure. */
static PGconn *
listen_open(const char *conninfo)
{
    PGconn *pg = pg_connect(conninfo);

    if (pg == NULL)
        return NULL;
    PQsetNoticeProcessor(pg, quiet, NULL);
    if (PQstatus(pg) == CONNECTION_OK) {
        PGresult *res = PQexec(pg, "LISTEN " NOTIFY_CHANNEL);
        bool ok = result_ok(res);
        PQclear(res);
        if (ok && PQsetnonblocking(pg, 1) == 0)
            return pg;
    }
    PQfinish(pg);
    return NULL;
}

/* sleep_unless_stopped pauses ms, returning early when the store is closing. */
static void
sleep_unless_stopped(struct pg_store *s, int64_t ms)
{
    const struct timespec step = { 0, 50 * 1000 * 1000 };

    for (int64_t slept = 0; slept < ms && !atomic_load(&s->stop); slept += 50)
        nanosleep(&step, NULL);
}

/* deliver hands every pending notification to the callback. */
static void
deliver(struct pg_store *s, PGconn *pg)
{
    PGnotify *n;

    while ((n = PQnotifies(pg)) != NULL) {
        char *end = NULL;
        long long id = strtoll(n->extra, &end, 10);
        if (end != n->extra && *end == '\0' && id > 0)
            s->cb(s->cb_ctx, (int64_t)id);
        PQfreemem(n);
    }
}

/* watch_main: wait on the listener's socket; after a lost session reconnect with
 * backoff, then report a possible gap with asset 0 so every waiter claims again. */
static void *
watch_main(void *arg)
{
    struct pg_store *s = arg;
    PGconn *pg = s->listen_pg;
    int64_t backoff = 0;

    s->listen_pg = NULL;
    while (!atomic_load(&s->stop)) {
        if (pg == NULL) {
            if ((pg = listen_open(s->conninfo)) == NULL) {
                backoff = backoff == 0 ? RECONNECT_MIN_MS :
                    (backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2);
                sleep_unless_stopped(s, backoff);
                continue;
            }
            backoff = 0;
            s->cb(s->cb_ctx, 0);
        }
        struct pollfd p = { .fd = PQsocket(pg), .events = POLLIN };
        if (p.fd < 0 || (poll(&p, 1, WATCH_POLL_MS) > 0 && PQconsumeInput(pg) == 0)) {
            PQfinish(pg);
            pg = NULL;
            continue;
        }
        deliver(s, pg);
    }
    PQfinish(pg);
    return NULL;
}

static int
pg_watch_jobs(store_t *st, store_job_event_fn cb, void *ctx)
{
    struct pg_store *s = pq(st);

    if (s->watching || cb == NULL)
        return ODS_E_INVAL;
    if ((s->listen_pg = listen_open(s->conninfo)) == NULL)
        return ODS_E_UNAVAILABLE;
    s->cb = cb;
    s->cb_ctx = ctx;
    if (pthread_create(&s->watcher, NULL, watch_main, s) != 0) {
        PQfinish(s->listen_pg);
        s->listen_pg = NULL;
        return ODS_E_NOMEM;
    }
    s->watching = true;
    return ODS_E_OK;
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
audit_insert(struct conn *c, const struct audit_entry *e)
{
    struct args a;

    args_init(&a);
    arg_i64(&a, e->at_ms != 0 ? e->at_ms : now_ms());
    arg_text(&a, e->user);
    arg_text(&a, e->remote);
    arg_text(&a, e->action);
    arg_text(&a, e->target);
    arg_text(&a, e->result);
    arg_text(&a, e->detail);
    return run(c, S_AUDIT_ADD, &a, NULL);
}

/* asset_modules reads an asset's module bits. Returns 0, ODS_E_NOTFOUND or a failure. */
static int
asset_modules(struct conn *c, int64_t asset_id, unsigned *mods)
{
    PGresult *res = NULL;
    struct args a;
    int rc;

    args_init(&a);
    arg_i64(&a, asset_id);
    if ((rc = run(c, S_ASSET_MODULES, &a, &res)) == ODS_E_OK) {
        if (PQntuples(res) > 0)
            *mods = (unsigned)col_i64(res, 0, 0);
        else
            rc = ODS_E_NOTFOUND;
    }
    PQclear(res);
    return rc;
}

/* job_find_or_insert reuses an active identical job or queues a new one. An insert
 * that met an identical job committed meanwhile (by another node) finds that one;
 * when that job finished in between, it tries again. */
static int
job_find_or_insert(struct conn *c, struct launch *it)
{
    for (int tries = 0; tries < 3; tries++) {
        PGresult *res = NULL;
        struct args a;
        int rc;

        args_init(&a);
        arg_i64(&a, it->asset_id);
        arg_i64(&a, it->scan_type);
        arg_i64(&a, it->override_cpu ? 1 : 0);
        if ((rc = run(c, S_JOB_FIND, &a, &res)) != ODS_E_OK)
            return rc;
        if (PQntuples(res) > 0) {
            it->job_id = col_i64(res, 0, 0);
            it->existing = true;
            PQclear(res);
            return ODS_E_OK;
        }
        PQclear(res);
        arg_text(&a, it->user);
        arg_text(&a, it->remote);
        arg_i64(&a, it->at_ms);
        if ((rc = run(c, S_JOB_INSERT, &a, &res)) != ODS_E_OK)
            return rc;
        if (PQntuples(res) > 0) {
            it->job_id = col_i64(res, 0, 0);
            PQclear(res);
            return ODS_E_OK;
        }
        PQclear(res);
    }
    return ODS_E_BUSY;  /* the batch runs again */
}

/* launch_audit writes the audit row of one launch; reason is set for failures. */
static int
launch_audit(struct conn *c, const struct launch *it, const struct scan_type_info *scan,
    const char *reason)
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
    return audit_insert(c, &e);
}

/* launch_one decides one item inside the batch's transaction. Per-item outcomes go to
 * it->result; the return value is not 0 only when the batch must roll back. */
static int
launch_one(struct conn *c, struct launch *it)
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
        return launch_audit(c, it, NULL, "unknown scan type");
    }
    rc = asset_modules(c, it->asset_id, &mods);
    if (rc == ODS_E_NOTFOUND) {
        it->result = ODS_E_NOTFOUND;
        return launch_audit(c, it, scan, "asset not found");
    }
    if (rc != ODS_E_OK)
        return rc;
    if (scan->needs != MOD_NONE && (scan->needs & mods) == 0) {
        it->result = ODS_E_PERM;
        int len = snprintf(reason, sizeof(reason), "module %s not activated", scan->needs_name);
        if (len < 0 || (size_t)len >= sizeof(reason))
            return ODS_E_TOOBIG;
        return launch_audit(c, it, scan, reason);
    }
    if ((rc = job_find_or_insert(c, it)) != ODS_E_OK)
        return rc;
    return launch_audit(c, it, scan, NULL);
}

/* --- the job's life: store_apply ---------------------------------------------------- */

/* job_of_asset reads and locks a job for the agent of asset_id: a job of another asset
 * is ODS_E_NOTFOUND, exactly like a missing one. The lock orders two nodes updating
 * one job (a finish uploaded twice). */
static int
job_of_asset(struct conn *c, int64_t asset_id, int64_t job_id, struct job *j)
{
    struct args a;
    int rc;

    args_init(&a);
    arg_i64(&a, job_id);
    if ((rc = read_one(c, S_JOB_GET_LOCK, &a, job_read, j, sizeof(*j))) != ODS_E_OK)
        return rc;
    return j->asset_id == asset_id ? ODS_E_OK : ODS_E_NOTFOUND;
}

/* op_result splits a job_of_asset outcome: a per-op result (0 = go on) or a failure. */
static int
op_result(struct store_op *op, int rc)
{
    if (rc == ODS_E_OK || rc == ODS_E_NOTFOUND) {
        op->result = rc;
        return ODS_E_OK;
    }
    return rc;
}

/* op_checkin records a check-in; a NULL agent_version or remote keeps the old value. */
static int
op_checkin(struct conn *c, struct store_op *op)
{
    const struct checkin *ci = &op->u.checkin;
    struct args a;
    int64_t n = 0;
    int rc;

    args_init(&a);
    arg_i64(&a, ci->asset_id);
    arg_i64(&a, ci->now_ms);
    if (ci->agent_version != NULL)
        arg_text_fit(&a, ci->agent_version, sizeof(((struct asset *)0)->agent_version));
    else
        arg_null(&a);
    if (ci->remote != NULL)
        arg_text_fit(&a, ci->remote, STORE_ADDR_MAX);
    else
        arg_null(&a);
    if ((rc = run_changed(c, S_ASSET_CHECKIN, &a, &n)) != ODS_E_OK)
        return rc;
    op->result = n == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
    return ODS_E_OK;
}

/* claim_pick chooses the QUEUED jobs to hand out: oldest first, up to max_jobs, no
 * type in busy_types and never two of one type; jobs another node holds are skipped.
 * Ids go to ids[], count to *n. */
static int
claim_pick(struct conn *c, const struct claim *cl, int64_t *ids, size_t *n)
{
    unsigned taken = cl->busy_types;
    size_t max = cl->max_jobs < STORE_CLAIM_MAX ? cl->max_jobs : STORE_CLAIM_MAX;
    PGresult *res = NULL;
    struct args a;
    int rc;

    *n = 0;
    args_init(&a);
    arg_i64(&a, cl->asset_id);
    if ((rc = run(c, S_JOB_QUEUED, &a, &res)) != ODS_E_OK)
        return rc;
    for (int r = 0; r < PQntuples(res) && *n < max; r++) {
        int type = col_int(res, r, 1);
        if (type < 0 || type >= SCAN_TYPE_COUNT || (taken & (1u << type)))
            continue;
        taken |= 1u << type;
        ids[(*n)++] = col_i64(res, r, 0);
    }
    PQclear(res);
    return ODS_E_OK;
}

static int
op_claim(struct conn *c, struct store_op *op)
{
    struct claim *cl = &op->u.claim;
    int64_t ids[STORE_CLAIM_MAX];
    unsigned mods = 0;
    size_t n = 0, got = 0;
    int rc;

    cl->n = 0;
    rc = asset_modules(c, cl->asset_id, &mods);
    if (rc == ODS_E_NOTFOUND) {
        op->result = ODS_E_NOTFOUND;
        return ODS_E_OK;
    }
    if (rc != ODS_E_OK || (rc = claim_pick(c, cl, ids, &n)) != ODS_E_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        PGresult *res = NULL;
        struct args a;

        args_init(&a);
        arg_i64(&a, ids[i]);
        arg_i64(&a, cl->now_ms);
        arg_i64(&a, cl->now_ms + cl->lease_ms);
        if ((rc = run(c, S_JOB_DISPATCH, &a, &res)) != ODS_E_OK)
            return rc;
        if (PQntuples(res) > 0) {
            memset(&cl->jobs[got], 0, sizeof(cl->jobs[got]));
            job_read(res, 0, &cl->jobs[got++]);
        }
        PQclear(res);
    }
    cl->n = got;
    op->result = ODS_E_OK;
    return ODS_E_OK;
}

/* op_start: DISPATCHED, or RUNNING again, -> RUNNING with a renewed lease. */
static int
op_start(struct conn *c, struct store_op *op)
{
    struct job_update *u = &op->u.update;
    struct args a;
    struct job j;
    int rc = op_result(op, job_of_asset(c, u->asset_id, u->job_id, &j));

    if (rc != ODS_E_OK || op->result != ODS_E_OK)
        return rc;
    u->scan_type = j.scan_type;
    if (j.state != JOB_DISPATCHED && j.state != JOB_RUNNING) {
        op->result = ODS_E_BUSY;
        return ODS_E_OK;
    }
    args_init(&a);
    arg_i64(&a, u->job_id);
    arg_i64(&a, u->now_ms);
    arg_i64(&a, u->now_ms + u->lease_ms);
    arg_text_fit(&a, u->cpu_applied, sizeof(j.cpu_applied));
    return run(c, S_JOB_START, &a, NULL);
}

/* op_heartbeat renews the lease of a DISPATCHED or RUNNING job. */
static int
op_heartbeat(struct conn *c, struct store_op *op)
{
    struct job_update *u = &op->u.update;
    struct args a;
    struct job j;
    int rc = op_result(op, job_of_asset(c, u->asset_id, u->job_id, &j));

    if (rc != ODS_E_OK || op->result != ODS_E_OK)
        return rc;
    u->scan_type = j.scan_type;
    if (j.state != JOB_DISPATCHED && j.state != JOB_RUNNING) {
        op->result = ODS_E_BUSY;
        return ODS_E_OK;
    }
    args_init(&a);
    arg_i64(&a, u->job_id);
    arg_i64(&a, u->now_ms + u->lease_ms);
    return run(c, S_JOB_RENEW, &a, NULL);
}

/* finish_document stores a COMPLETED job's document; an Inventory_Scan's also becomes
 * the asset's latest inventory and a line of its inventory history. */
static int
finish_document(struct conn *c, const struct job *j, const struct job_update *u)
{
    struct args a;
    int rc;

    args_init(&a);
    arg_i64(&a, j->id);
    arg_i64(&a, j->asset_id);
    arg_i64(&a, j->scan_type);
    arg_doc(&a, u->result_json, u->result_len);
    arg_i64(&a, u->now_ms);
    if ((rc = run(c, S_RESULT_ADD, &a, NULL)) != ODS_E_OK || j->scan_type != SCAN_INVENTORY)
        return rc;
    args_init(&a);
    arg_i64(&a, j->asset_id);
    arg_i64(&a, j->id);
    arg_i64(&a, u->now_ms);
    arg_doc(&a, u->result_json, u->result_len);
    if ((rc = run(c, S_INVENTORY_SET, &a, NULL)) != ODS_E_OK)
        return rc;
    args_init(&a);
    arg_i64(&a, j->asset_id);
    arg_i64(&a, j->id);
    arg_i64(&a, u->now_ms);
    return run(c, S_HISTORY_ADD, &a, NULL);
}

/* manifest_known: ODS_E_OK when the asset's stored manifest has this hash, else
 * ODS_E_NOTFOUND (or the statement's failure). */
static int
manifest_known(struct conn *c, int64_t asset_id, const char *hash)
{
    PGresult *res = NULL;
    struct args a;
    int rc;

    args_init(&a);
    arg_i64(&a, asset_id);
    if ((rc = run(c, S_MANIFEST_HASH, &a, &res)) == ODS_E_OK)
        rc = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), hash) == 0 ? ODS_E_OK :
            ODS_E_NOTFOUND;
    PQclear(res);
    return rc;
}

/* manifest_record keeps a full manifest as the asset's, or notes a hash-only scan. */
static int
manifest_record(struct conn *c, const struct job *j, const struct job_update *u)
{
    struct args a;

    args_init(&a);
    arg_i64(&a, j->asset_id);
    if (u->manifest_hash_only) {
        arg_i64(&a, u->now_ms);
        return run(c, S_MANIFEST_SEEN, &a, NULL);
    }
    if (u->result_json == NULL)
        return ODS_E_STORE;
    arg_i64(&a, j->id);
    arg_text(&a, u->manifest_hash);
    arg_doc(&a, u->result_json, u->result_len);
    arg_i64(&a, u->now_ms);
    return run(c, S_MANIFEST_SET, &a, NULL);
}

/* op_finish: QUEUED/DISPATCHED/RUNNING -> COMPLETED or FAILED. A job already finished
 * is a duplicate upload and changes nothing. A final_state other than COMPLETED or
 * FAILED is ODS_E_INVAL, a document above RESULT_DOC_MAX ODS_E_TOOBIG, one that is
 * not UTF-8 text ODS_E_INVAL. */
static int
op_finish(struct conn *c, struct store_op *op)
{
    struct job_update *u = &op->u.update;
    bool completed = u->final_state == JOB_COMPLETED;
    struct args a;
    struct job j;
    int rc;

    u->duplicate = false;
    rc = op_result(op, job_of_asset(c, u->asset_id, u->job_id, &j));
    if (rc != ODS_E_OK || op->result != ODS_E_OK)
        return rc;
    u->scan_type = j.scan_type;
    if (j.state == JOB_COMPLETED || j.state == JOB_FAILED) {
        u->duplicate = true;
        return ODS_E_OK;
    }
    if (j.state == JOB_EXPIRED) {
        op->result = ODS_E_BUSY;
        return ODS_E_OK;
    }
    if (!completed && u->final_state != JOB_FAILED) {
        op->result = ODS_E_INVAL;
        return ODS_E_OK;
    }
    if (completed && u->result_json != NULL && u->result_len > RESULT_DOC_MAX) {
        op->result = ODS_E_TOOBIG;
        return ODS_E_OK;
    }
    if (completed && u->result_json != NULL && !utf8_valid(u->result_json, u->result_len)) {
        op->result = ODS_E_INVAL;
        return ODS_E_OK;
    }
    args_init(&a);
    arg_i64(&a, u->job_id);
    arg_i64(&a, u->final_state);
    arg_i64(&a, u->now_ms);
    arg_text_fit(&a, completed ? "" : u->reason, STORE_TEXT_MAX);
    bool manifest = completed && j.scan_type == SCAN_VULNERABILITY && u->manifest_hash != NULL;
    if (manifest && u->manifest_hash_only &&
        (rc = manifest_known(c, j.asset_id, u->manifest_hash)) != ODS_E_OK) {
        if (rc != ODS_E_NOTFOUND)
            return rc;
        op->result = ODS_E_CONFLICT;
        return ODS_E_OK;
    }
    if ((rc = run(c, S_JOB_FINISH, &a, NULL)) != ODS_E_OK)
        return rc;
    if (completed && u->result_json != NULL && (rc = finish_document(c, &j, u)) != ODS_E_OK)
        return rc;
    return manifest ? manifest_record(c, &j, u) : ODS_E_OK;
}

/* apply_one runs one operation inside the batch's transaction. Its outcome goes to
 * op->result; the return value is not 0 only when the batch must roll back. */
static int
apply_one(struct conn *c, struct store_op *op)
{
    int rc;

    op->result = ODS_E_OK;
    switch (op->kind) {
    case STORE_OP_LAUNCH:
        rc = launch_one(c, &op->u.launch);
        op->result = op->u.launch.result;
        return rc;
    case STORE_OP_CHECKIN:
        return op_checkin(c, op);
    case STORE_OP_CLAIM:
        return op_claim(c, op);
    case STORE_OP_JOB_START:
        return op_start(c, op);
    case STORE_OP_JOB_HEARTBEAT:
        return op_heartbeat(c, op);
    case STORE_OP_JOB_FINISH:
        return op_finish(c, op);
    }
    op->result = ODS_E_INVAL;
    return ODS_E_OK;
}

/* notify_asset announces, on commit, that asset_id has a job to hand out. PostgreSQL
 * folds identical notifications of one transaction into one. */
static int
notify_asset(struct conn *c, int64_t asset_id)
{
    struct args a;
    char id[24];
    int len = snprintf(id, sizeof(id), "%lld", (long long)asset_id);

    if (len < 0 || (size_t)len >= sizeof(id))
        return ODS_E_TOOBIG;
    args_init(&a);
    arg_text(&a, id);
    return run(c, S_NOTIFY, &a, NULL);
}

/* batch_step runs item i of a batch: a launch or an operation; *created_for gets the
 * asset of a job it created (0: none). */
typedef int (*batch_step)(struct conn *c, void *items, size_t i, int64_t *created_for);

static int
launch_step(struct conn *c, void *items, size_t i, int64_t *created_for)
{
    struct launch *l = &((struct launch *)items)[i];
    int rc = launch_one(c, l);

    *created_for = rc == ODS_E_OK && l->result == ODS_E_OK && !l->existing ? l->asset_id : 0;
    return rc;
}

static int
op_step(struct conn *c, void *items, size_t i, int64_t *created_for)
{
    struct store_op *op = &((struct store_op *)items)[i];
    int rc = apply_one(c, op);

    *created_for = 0;
    if (rc == ODS_E_OK && op->kind == STORE_OP_LAUNCH && op->u.launch.result == ODS_E_OK &&
        !op->u.launch.existing)
        *created_for = op->u.launch.asset_id;
    return rc;
}

/* batch_tx runs the items and announces the assets that got new jobs (each once). */
static int
batch_tx(struct conn *c, batch_step step, void *items, size_t n)
{
    int64_t *assets = NULL;
    size_t nassets = 0;
    int rc = ODS_E_OK;

    if (n > 0 && (assets = calloc(n, sizeof(*assets))) == NULL)
        return ODS_E_NOMEM;
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++) {
        int64_t created_for = 0;
        rc = step(c, items, i, &created_for);
        if (rc != ODS_E_OK || created_for == 0)
            continue;
        size_t k = 0;
        while (k < nassets && assets[k] != created_for)
            k++;
        if (k == nassets)
            assets[nassets++] = created_for;
    }
    for (size_t k = 0; k < nassets && rc == ODS_E_OK; k++)
        rc = notify_asset(c, assets[k]);
    free(assets);
    return rc;
}

/* batch_run runs n items in ONE transaction committed before it returns (with
 * synchronous_commit on, PostgreSQL's default, COMMIT returns once the WAL is flushed):
 * the group commit behind store_launch_batch and store_apply. A transaction chosen as
 * a deadlock victim (two nodes inserting the same jobs in another order) runs again.
 * Returns 0, ODS_E_UNAVAILABLE (database lost; the outcome of a COMMIT in flight is
 * unknown) or ODS_E_STORE (rolled back). */
static int
batch_run(store_t *st, batch_step step, void *items, size_t n)
{
    struct conn *c = conn_acquire(st);
    int rc = ODS_E_BUSY;

    for (int tries = 0; tries < BATCH_TRIES && rc == ODS_E_BUSY; tries++) {
        if ((rc = tx_begin(c)) != ODS_E_OK)
            break;
        rc = batch_tx(c, step, items, n);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    if (rc == ODS_E_OK || rc == ODS_E_UNAVAILABLE)
        return rc;
    return ODS_E_STORE;
}

static int
pg_launch_batch(store_t *st, struct launch *items, size_t n)
{
    return batch_run(st, launch_step, items, n);
}

static int
pg_apply(store_t *st, struct store_op *ops, size_t n)
{
    return batch_run(st, op_step, ops, n);
}

/* --- the job's life: sweep and documents --------------------------------------------- */

/* sweep_tx: expire first, so a job requeued now still gets a chance to be handed out.
 * Every asset with a requeued job is announced to every node. */
static int
sweep_tx(struct conn *c, int64_t now, int64_t expire_ms, size_t *requeued, size_t *expired,
    int64_t *assets, size_t cap, size_t *n_assets)
{
    PGresult *res = NULL;
    struct args a;
    int64_t n = 0;
    int rc;

    args_init(&a);
    arg_i64(&a, now);
    arg_i64(&a, now - expire_ms);
    if ((rc = run_changed(c, S_SWEEP_EXPIRE, &a, &n)) != ODS_E_OK)
        return rc;
    *expired = (size_t)n;
    args_init(&a);
    arg_i64(&a, now);
    if ((rc = run(c, S_SWEEP_REQUEUE, &a, &res)) != ODS_E_OK)
        return rc;
    for (int r = 0; r < PQntuples(res) && rc == ODS_E_OK; r++) {
        int64_t asset = col_i64(res, r, 0);
        *requeued += (size_t)col_i64(res, r, 1);
        if (*n_assets < cap)
            assets[(*n_assets)++] = asset;
        rc = notify_asset(c, asset);
    }
    PQclear(res);
    return rc;
}

static int
pg_jobs_sweep(store_t *st, int64_t now, int64_t expire_ms, size_t *requeued,
    size_t *expired, int64_t *requeued_assets, size_t cap, size_t *n_assets)
{
    struct conn *c = conn_acquire(st);
    size_t nreq = 0, nexp = 0, nassets = 0;
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = sweep_tx(c, now, expire_ms, &nreq, &nexp, requeued_assets,
            requeued_assets != NULL ? cap : 0, &nassets);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    if (rc != ODS_E_OK)
        nreq = nexp = nassets = 0;
    if (requeued != NULL)
        *requeued = nreq;
    if (expired != NULL)
        *expired = nexp;
    if (n_assets != NULL)
        *n_assets = nassets;
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

/* doc_copy copies column col of row 0 into a malloc'd NUL-terminated string. */
static int
doc_copy(const PGresult *res, int col, char **json, size_t *len)
{
    size_t n = (size_t)PQgetlength(res, 0, col);
    char *copy = malloc(n + 1);

    if (copy == NULL)
        return ODS_E_NOMEM;
    memcpy(copy, PQgetvalue(res, 0, col), n);
    copy[n] = '\0';
    *json = copy;
    if (len != NULL)
        *len = n;
    return ODS_E_OK;
}

static int
pg_result_get(store_t *st, int64_t job_id, char **json, size_t *len)
{
    struct conn *c = conn_acquire(st);
    PGresult *res = NULL;
    struct args a;
    int rc;

    *json = NULL;
    args_init(&a);
    arg_i64(&a, job_id);
    if ((rc = run(c, S_RESULT_GET, &a, &res)) == ODS_E_OK)
        rc = PQntuples(res) > 0 ? doc_copy(res, 0, json, len) : ODS_E_NOTFOUND;
    PQclear(res);
    conn_release(c);
    return rc;
}

static int
pg_inventory_get(store_t *st, int64_t asset_id, char **json, size_t *len,
    int64_t *job_id, int64_t *collected_ms)
{
    struct conn *c = conn_acquire(st);
    PGresult *res = NULL;
    struct args a;
    int rc;

    *json = NULL;
    args_init(&a);
    arg_i64(&a, asset_id);
    if ((rc = run(c, S_INVENTORY_GET, &a, &res)) == ODS_E_OK) {
        if (PQntuples(res) == 0) {
            rc = ODS_E_NOTFOUND;
        } else if ((rc = doc_copy(res, 0, json, len)) == ODS_E_OK) {
            if (job_id != NULL)
                *job_id = col_i64(res, 0, 1);
            if (collected_ms != NULL)
                *collected_ms = col_i64(res, 0, 2);
        }
    }
    PQclear(res);
    conn_release(c);
    return rc;
}

static int
pg_inventory_history(store_t *st, int64_t asset_id, int64_t *at, size_t cap, size_t *n)
{
    struct conn *c = conn_acquire(st);
    PGresult *res = NULL;
    struct args a;
    int rc;

    *n = 0;
    args_init(&a);
    arg_i64(&a, asset_id);
    arg_i64(&a, cap > INT64_MAX ? INT64_MAX : (int64_t)cap);
    if ((rc = run(c, S_HISTORY_LIST, &a, &res)) == ODS_E_OK)
        for (int r = 0; r < PQntuples(res) && *n < cap; r++)
            at[(*n)++] = col_i64(res, r, 0);
    PQclear(res);
    conn_release(c);
    return rc;
}

/* --- jobs ------------------------------------------------------------------------- */

static int
pg_job_get(store_t *st, int64_t id, struct job *out)
{
    struct args a;

    args_init(&a);
    arg_i64(&a, id);
    return get_store(st, S_JOB_GET, &a, job_read, out, sizeof(*out));
}

static int
pg_job_list(store_t *st, int64_t asset_id, struct job **out, size_t *n)
{
    struct args a;
    void *rows = NULL;
    int rc;

    args_init(&a);
    if (asset_id != 0)
        arg_i64(&a, asset_id);
    rc = list_store(st, asset_id == 0 ? S_JOB_LIST_ALL : S_JOB_LIST_ASSET, &a, job_read,
        sizeof(**out), &rows, n);
    *out = rows;
    return rc;
}

/* --- users ------------------------------------------------------------------------ */

static bool
fits(const char *s, size_t max)
{
    return s != NULL && strlen(s) < max;
}

/* write_store runs one write through a pooled connection; *n (may be NULL) gets the
 * number of rows it touched. */
static int
write_store(store_t *st, enum stmt_id id, const struct args *a, int64_t *n)
{
    struct conn *c = conn_acquire(st);
    int64_t changed = 0;
    int rc = run_changed(c, id, a, &changed);

    conn_release(c);
    if (n != NULL)
        *n = changed;
    return rc;
}

static int
pg_user_add(store_t *st, const char *name, const char *pwhash, int role)
{
    struct args a;

    if (!fits(name, STORE_NAME_MAX) || *name == '\0' || !fits(pwhash, STORE_HASH_MAX) ||
        role < 0 || role >= ROLE_COUNT)
        return ODS_E_INVAL;
    args_init(&a);
    arg_text(&a, name);
    arg_text(&a, pwhash);
    arg_i64(&a, role);
    arg_i64(&a, now_ms());
    return write_store(st, S_USER_ADD, &a, NULL);
}

static int
pg_user_get(store_t *st, const char *name, struct user *out)
{
    struct args a;

    args_init(&a);
    arg_text(&a, name);
    return get_store(st, S_USER_GET, &a, user_read, out, sizeof(*out));
}

static int
pg_user_list(store_t *st, struct user **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_store(st, S_USER_LIST, NULL, user_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

/* user_change runs a change of one user and bumps the auth epoch, in one transaction.
 * Returns 0, ODS_E_NOTFOUND or a failure. */
static int
user_change(store_t *st, enum stmt_id id, const struct args *a)
{
    struct conn *c = conn_acquire(st);
    int64_t n = 0;
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        if ((rc = run_changed(c, id, a, &n)) == ODS_E_OK)
            rc = n == 0 ? ODS_E_NOTFOUND : run(c, S_EPOCH_BUMP, NULL, NULL);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

static int
pg_user_set_password(store_t *st, const char *name, const char *pwhash)
{
    struct args a;

    if (!fits(pwhash, STORE_HASH_MAX))
        return ODS_E_INVAL;
    args_init(&a);
    arg_text(&a, name);
    arg_text(&a, pwhash);
    return user_change(st, S_USER_SET_PW, &a);
}

static int
pg_user_set_role(store_t *st, const char *name, int role)
{
    struct args a;

    if (role < 0 || role >= ROLE_COUNT)
        return ODS_E_INVAL;
    args_init(&a);
    arg_text(&a, name);
    arg_i64(&a, role);
    return user_change(st, S_USER_SET_ROLE, &a);
}

static int
pg_user_del(store_t *st, const char *name)
{
    struct args a;

    args_init(&a);
    arg_text(&a, name);
    return user_change(st, S_USER_DEL, &a);
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

/* login_failed_tx reads the user locked, so failures counted by two nodes add up. */
static int
login_failed_tx(struct conn *c, const char *name, int64_t now, int64_t window_ms,
    int max_failures, int64_t lock_ms, bool *locked)
{
    struct args a;
    struct user u;
    int rc;

    args_init(&a);
    arg_text(&a, name);
    if ((rc = read_one(c, S_USER_GET_LOCK, &a, user_read, &u, sizeof(u))) != ODS_E_OK)
        return rc;
    lockout_fail(&u, now, window_ms, max_failures, lock_ms);
    arg_i64(&a, u.failed_count);
    arg_i64(&a, u.failed_since_ms);
    arg_i64(&a, u.locked_until_ms);
    if ((rc = run(c, S_USER_LOCK_SET, &a, NULL)) != ODS_E_OK)
        return rc;
    if (locked != NULL)
        *locked = u.locked_until_ms > now;
    return ODS_E_OK;
}

static int
pg_user_login_failed(store_t *st, const char *name, int64_t now, int64_t window_ms,
    int max_failures, int64_t lock_ms, bool *locked)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = login_failed_tx(c, name, now, window_ms, max_failures, lock_ms, locked);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

static int
pg_user_login_ok(store_t *st, const char *name)
{
    struct args a;
    int64_t n = 0;
    int rc;

    args_init(&a);
    arg_text(&a, name);
    if ((rc = write_store(st, S_USER_LOGIN_OK, &a, &n)) != ODS_E_OK)
        return rc;
    return n == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
}

static int
pg_auth_epoch(store_t *st, int64_t *out)
{
    struct conn *c = conn_acquire(st);
    PGresult *res = NULL;
    int rc = run(c, S_EPOCH_GET, NULL, &res);

    if (rc == ODS_E_OK) {
        if (PQntuples(res) > 0)
            *out = col_i64(res, 0, 0);
        else
            rc = ODS_E_STORE;
    }
    PQclear(res);
    conn_release(c);
    return rc;
}

/* --- assets ----------------------------------------------------------------------- */

static void
asset_args(struct args *a, const struct asset *as, int64_t now)
{
    const char *const texts[] = {
        as->fqdn, as->os_name, as->os_version, as->arch, as->machine_id, as->agent_version,
        as->last_address,
    };

    args_init(a);
    arg_i64(a, as->id);
    if (as->agent_uuid[0] != '\0')
        arg_text(a, as->agent_uuid);
    else
        arg_null(a);
    arg_text(a, as->hostname);
    arg_text(a, as->os_family);
    arg_i64(a, as->modules);
    arg_i64(a, now);
    arg_i64(a, now);
    arg_i64(a, as->last_checkin_ms);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        arg_text(a, texts[i]);
    if (as->profile_id != 0)
        arg_i64(a, as->profile_id);
    else
        arg_null(a);
    if (as->key_id != 0)
        arg_i64(a, as->key_id);
    else
        arg_null(a);
}

/* asset_fits tells whether every string of *a is NUL-terminated inside its field. */
static bool
asset_fits(const struct asset *a)
{
    return memchr(a->agent_uuid, '\0', sizeof(a->agent_uuid)) != NULL &&
        memchr(a->hostname, '\0', sizeof(a->hostname)) != NULL &&
        memchr(a->os_family, '\0', sizeof(a->os_family)) != NULL &&
        memchr(a->fqdn, '\0', sizeof(a->fqdn)) != NULL &&
        memchr(a->os_name, '\0', sizeof(a->os_name)) != NULL &&
        memchr(a->os_version, '\0', sizeof(a->os_version)) != NULL &&
        memchr(a->arch, '\0', sizeof(a->arch)) != NULL &&
        memchr(a->machine_id, '\0', sizeof(a->machine_id)) != NULL &&
        memchr(a->agent_version, '\0', sizeof(a->agent_version)) != NULL &&
        memchr(a->last_address, '\0', sizeof(a->last_address)) != NULL;
}

static int
pg_asset_add(store_t *st, const struct asset *as)
{
    struct args a;

    if (as->id <= 0 || !asset_fits(as))
        return ODS_E_INVAL;
    asset_args(&a, as, now_ms());
    return write_store(st, S_ASSET_ADD, &a, NULL);
}

static int
pg_asset_get(store_t *st, int64_t id, struct asset *out)
{
    struct args a;

    args_init(&a);
    arg_i64(&a, id);
    return get_store(st, S_ASSET_GET, &a, asset_read, out, sizeof(*out));
}

static int
pg_asset_list(store_t *st, struct asset **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_store(st, S_ASSET_LIST, NULL, asset_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

/* --- activation keys and enrollment ------------------------------------------------ */

static int
pg_key_add(store_t *st, struct actkey *k)
{
    struct conn *c = NULL;
    PGresult *res = NULL;
    int64_t now = now_ms();
    struct args a;
    int rc;

    if (!fits(k->token, sizeof(k->token)) || k->token[0] == '\0' ||
        !fits(k->name, sizeof(k->name)) || k->max_uses < 0 || k->expires_ms < 0)
        return ODS_E_INVAL;
    args_init(&a);
    arg_text(&a, k->token);
    arg_text(&a, k->name);
    arg_i64(&a, k->modules);
    arg_i64(&a, k->max_uses);
    arg_i64(&a, k->expires_ms);
    arg_i64(&a, k->revoked ? 1 : 0);
    arg_i64(&a, now);
    c = conn_acquire(st);
    if ((rc = run(c, S_KEY_ADD, &a, &res)) == ODS_E_OK && PQntuples(res) > 0) {
        k->id = col_i64(res, 0, 0);
        k->uses = 0;
        k->created_ms = now;
    }
    PQclear(res);
    conn_release(c);
    return rc;
}

static int
pg_key_list(store_t *st, struct actkey **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_store(st, S_KEY_LIST, NULL, key_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

/* pg_key_revoke revokes every key whose token, or non-empty name, matches. */
static int
pg_key_revoke(store_t *st, const char *token_or_name)
{
    struct args a;
    int64_t n = 0;
    int rc;

    args_init(&a);
    arg_text(&a, token_or_name);
    if ((rc = write_store(st, S_KEY_REVOKE, &a, &n)) != ODS_E_OK)
        return rc;
    return n == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
}

/* enroll_asset_id picks the new asset's id (see S_ASSET_NEXT_ID) under an advisory
 * lock held to the end of the transaction, so two nodes never pick the same one. */
static int
enroll_asset_id(struct conn *c, int64_t *id)
{
    PGresult *res = NULL;
    struct args a;
    int rc;

    if ((rc = run(c, S_LOCK_ENROLL, NULL, NULL)) != ODS_E_OK)
        return rc;
    args_init(&a);
    arg_i64(&a, FIRST_ENROLLED_ID);
    if ((rc = run(c, S_ASSET_NEXT_ID, &a, &res)) != ODS_E_OK)
        return rc;
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
        rc = ODS_E_STORE;
    else
        *id = col_i64(res, 0, 0);
    PQclear(res);
    return rc;
}

static int
enroll_tx(struct conn *c, const struct enrollment *e, struct asset *as, const char **why)
{
    struct actkey k;
    struct args a;
    int rc;

    args_init(&a);
    arg_text(&a, e->key_token);
    if ((rc = read_one(c, S_KEY_GET_LOCK, &a, key_read, &k, sizeof(k))) == ODS_E_NOTFOUND)
        *why = "activation key unknown";
    if (rc != ODS_E_OK || (rc = store_key_check(&k, e->now_ms, why)) != ODS_E_OK)
        return rc;
    if ((rc = store_enrollment_asset(e, &k, as)) != ODS_E_OK ||
        (rc = enroll_asset_id(c, &as->id)) != ODS_E_OK)
        return rc;
    args_init(&a);
    arg_i64(&a, k.id);
    if ((rc = run(c, S_KEY_USE, &a, NULL)) != ODS_E_OK)
        return rc;
    asset_args(&a, as, e->now_ms);
    if ((rc = run(c, S_ASSET_ADD, &a, NULL)) != ODS_E_OK)
        return rc;
    args_init(&a);
    arg_text(&a, e->uuid);
    arg_i64(&a, as->id);
    arg_text(&a, e->secret_hash);
    arg_i64(&a, e->now_ms);
    if ((rc = run(c, S_AGENT_ADD, &a, NULL)) != ODS_E_OK)
        return rc;
    args_init(&a);
    arg_i64(&a, as->id);
    arg_i64(&a, k.id);
    return run(c, S_ENROLL_TAGS, &a, NULL);
}

static int
pg_enroll(store_t *st, const struct enrollment *e, struct asset *asset, const char **why)
{
    const char *reason = NULL;
    int rc;

    if (e->key_token == NULL || e->uuid == NULL || e->uuid[0] == '\0' ||
        e->hostname == NULL || e->hostname[0] == '\0' ||
        !fits(e->secret_hash, sizeof(((struct agent *)0)->secret_hash)) ||
        e->secret_hash[0] == '\0')
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = enroll_tx(c, e, asset, &reason);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    if (why != NULL)
        *why = reason;
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

static int
pg_agent_get(store_t *st, const char *uuid, struct agent *out)
{
    struct args a;

    args_init(&a);
    arg_text(&a, uuid);
    return get_store(st, S_AGENT_GET, &a, agent_read, out, sizeof(*out));
}

/* --- profiles ----------------------------------------------------------------------- */

/* The range of every profile setting, checked before a profile is stored. */
static const struct {
    size_t offset;
    int    min, max;
} profile_ranges[] = {
    { offsetof(struct profile, cpu_limit),      2, 100 },
    { offsetof(struct profile, cpu_throttle),   0, 1000 },
    { offsetof(struct profile, checkin_hold_s), 1, 600 },
    { offsetof(struct profile, lease_s),        10, 86400 },
    { offsetof(struct profile, max_concurrent), 1, SCAN_TYPE_COUNT },
};

static bool
profile_valid(const struct profile *p)
{
    if (!fits(p->name, sizeof(p->name)) || p->name[0] == '\0' ||
        !fits(p->os_family, sizeof(p->os_family)))
        return false;
    for (size_t i = 0; i < sizeof(profile_ranges) / sizeof(profile_ranges[0]); i++) {
        int v;
        memcpy(&v, (const char *)p + profile_ranges[i].offset, sizeof(v));
        if (v < profile_ranges[i].min || v > profile_ranges[i].max)
            return false;
    }
    return true;
}

static int
pg_profile_add(store_t *st, struct profile *p)
{
    PGresult *res = NULL;
    struct args a;
    int rc;

    if (!profile_valid(p))
        return ODS_E_INVAL;
    args_init(&a);
    arg_text(&a, p->name);
    arg_text(&a, p->os_family);
    arg_i64(&a, p->is_default ? 1 : 0);
    arg_i64(&a, p->cpu_limit);
    arg_i64(&a, p->cpu_throttle);
    arg_i64(&a, p->checkin_hold_s);
    arg_i64(&a, p->lease_s);
    arg_i64(&a, p->max_concurrent);

    struct conn *c = conn_acquire(st);
    if ((rc = run(c, S_PROFILE_ADD, &a, &res)) == ODS_E_OK && PQntuples(res) > 0)
        p->id = col_i64(res, 0, 0);
    PQclear(res);
    conn_release(c);
    return rc;
}

static int
pg_profile_list(store_t *st, struct profile **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_store(st, S_PROFILE_LIST, NULL, profile_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

static int
pg_profile_get(store_t *st, const char *name, struct profile *out)
{
    struct args a;

    args_init(&a);
    arg_text(&a, name);
    return get_store(st, S_PROFILE_GET, &a, profile_read, out, sizeof(*out));
}

static int
profile_assign_tx(struct conn *c, int64_t asset_id, const char *name)
{
    struct profile p;
    struct args a;
    int64_t n = 0;
    int rc;

    args_init(&a);
    arg_text(&a, name);
    if ((rc = read_one(c, S_PROFILE_GET, &a, profile_read, &p, sizeof(p))) != ODS_E_OK)
        return rc;
    args_init(&a);
    arg_i64(&a, asset_id);
    arg_i64(&a, p.id);
    arg_i64(&a, now_ms());
    if ((rc = run_changed(c, S_ASSET_SET_PROFILE, &a, &n)) != ODS_E_OK)
        return rc;
    return n == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
}

static int
pg_profile_assign(store_t *st, int64_t asset_id, const char *profile_name)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = profile_assign_tx(c, asset_id, profile_name);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

static int
pg_profile_for_asset(store_t *st, int64_t asset_id, struct profile *out)
{
    struct args a;

    args_init(&a);
    arg_i64(&a, asset_id);
    return get_store(st, S_PROFILE_FOR_ASSET, &a, profile_read, out, sizeof(*out));
}

/* --- audit ------------------------------------------------------------------------ */

static int
pg_audit_add(store_t *st, const struct audit_entry *e)
{
    struct conn *c = conn_acquire(st);
    int rc = audit_insert(c, e);

    conn_release(c);
    return rc;
}

static int
pg_audit_list(store_t *st, size_t limit, struct audit_entry **out, size_t *n)
{
    struct args a;
    void *rows = NULL;
    int rc;

    args_init(&a);
    arg_i64(&a, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    rc = list_store(st, S_AUDIT_LIST, &a, audit_read, sizeof(**out), &rows, n);
    *out = rows;
    return rc;
}

/* --- activation keys by id, tags, user scopes and limits --------------------------- */

/* args_ids fills a with one or two ids. */
static const struct args *
args_ids(struct args *a, int64_t x, int64_t y, int n)
{
    args_init(a);
    arg_i64(a, x);
    if (n > 1)
        arg_i64(a, y);
    return a;
}

/* exists_id tells whether statement id (a read by one id) finds a row. */
static int
exists_id(struct conn *c, enum stmt_id id, int64_t key)
{
    PGresult *res = NULL;
    struct args a;
    int rc = run(c, id, args_ids(&a, key, 0, 1), &res);

    if (rc == ODS_E_OK && PQntuples(res) == 0)
        rc = ODS_E_NOTFOUND;
    PQclear(res);
    return rc;
}

/* in_tx runs fn(c, ctx) in one transaction on a pooled connection. */
static int
in_tx(store_t *st, int (*fn)(struct conn *c, void *ctx), void *ctx)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = fn(c, ctx);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

static int
pg_key_get_id(store_t *st, int64_t id, struct actkey *out)
{
    struct args a;

    return get_store(st, S_KEY_GET_ID, args_ids(&a, id, 0, 1), key_read, out, sizeof(*out));
}

static int
pg_key_update(store_t *st, const struct actkey *k)
{
    struct args a;
    int64_t n = 0;
    int rc;

    if (!fits(k->name, sizeof(k->name)) || k->max_uses < 0 || k->expires_ms < 0)
        return ODS_E_INVAL;
    args_init(&a);
    arg_i64(&a, k->id);
    arg_text(&a, k->name);
    arg_i64(&a, k->modules);
    arg_i64(&a, k->max_uses);
    arg_i64(&a, k->expires_ms);
    arg_i64(&a, k->revoked ? 1 : 0);
    if ((rc = write_store(st, S_KEY_UPDATE, &a, &n)) != ODS_E_OK)
        return rc;
    return n == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
}

static int
key_del_tx(struct conn *c, void *ctx)
{
    const int64_t *id = ctx;
    struct args a;
    int64_t n = 0;
    int rc;

    if ((rc = run(c, S_KEY_UNLINK, args_ids(&a, *id, 0, 1), NULL)) != ODS_E_OK ||
        (rc = run_changed(c, S_KEY_DEL, args_ids(&a, *id, 0, 1), &n)) != ODS_E_OK)
        return rc;
    return n == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
}

static int
pg_key_del(store_t *st, int64_t id)
{
    return in_tx(st, key_del_tx, &id);
}

/* tags_exist checks that every id names a tag. */
static int
tags_exist(struct conn *c, const int64_t *ids, size_t n)
{
    int rc = ODS_E_OK;

    for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
        rc = exists_id(c, S_TAG_GET_ID, ids[i]);
    return rc;
}

/* A set of tags given to one owner (a key or a user) in one transaction. */
struct tag_set {
    int64_t        owner;
    const char    *user;
    const int64_t *ids;
    size_t         n;
    const struct user_limits *limits;
};

static int
key_set_tags_tx(struct conn *c, void *ctx)
{
    const struct tag_set *ts = ctx;
    struct args a;
    int rc;

    if ((rc = exists_id(c, S_KEY_GET_ID, ts->owner)) != ODS_E_OK ||
        (rc = tags_exist(c, ts->ids, ts->n)) != ODS_E_OK ||
        (rc = run(c, S_KEY_TAGS_CLEAR, args_ids(&a, ts->owner, 0, 1), NULL)) != ODS_E_OK)
        return rc;
    for (size_t i = 0; i < ts->n && rc == ODS_E_OK; i++)
        rc = run(c, S_KEY_TAG_ADD, args_ids(&a, ts->owner, ts->ids[i], 2), NULL);
    return rc;
}

static int
pg_key_set_tags(store_t *st, int64_t key_id, const int64_t *tag_ids, size_t n)
{
    struct tag_set ts = { .owner = key_id, .ids = tag_ids, .n = n };

    return in_tx(st, key_set_tags_tx, &ts);
}

static int
pg_key_tags(store_t *st, int64_t key_id, struct tag **out, size_t *n)
{
    void *rows = NULL;
    struct args a;
    int rc = list_store(st, S_KEY_TAGS, args_ids(&a, key_id, 0, 1), tag_read, sizeof(**out),
        &rows, n);

    *out = rows;
    return rc;
}

static int
pg_tag_add(store_t *st, struct tag *t)
{
    struct conn *c = NULL;
    PGresult *res = NULL;
    int64_t now = now_ms();
    struct args a;
    int rc;

    if (!fits(t->name, sizeof(t->name)) || t->name[0] == '\0')
        return ODS_E_INVAL;
    args_init(&a);
    arg_text(&a, t->name);
    arg_i64(&a, now);
    c = conn_acquire(st);
    if ((rc = run(c, S_TAG_ADD, &a, &res)) == ODS_E_OK && PQntuples(res) > 0) {
        t->id = col_i64(res, 0, 0);
        t->created_ms = now;
    }
    PQclear(res);
    conn_release(c);
    return rc;
}

static int
pg_tag_get(store_t *st, const char *name, struct tag *out)
{
    struct args a;

    args_init(&a);
    arg_text(&a, name);
    return get_store(st, S_TAG_GET, &a, tag_read, out, sizeof(*out));
}

static int
pg_tag_get_id(store_t *st, int64_t id, struct tag *out)
{
    struct args a;

    return get_store(st, S_TAG_GET_ID, args_ids(&a, id, 0, 1), tag_read, out, sizeof(*out));
}

static int
pg_tag_list(store_t *st, const char *name_contains, struct tag **out, size_t *n)
{
    void *rows = NULL;
    struct args a;
    int rc;

    args_init(&a);
    if (name_contains != NULL)
        arg_text(&a, name_contains);
    else
        arg_null(&a);
    rc = list_store(st, S_TAG_LIST, &a, tag_read, sizeof(**out), &rows, n);
    *out = rows;
    return rc;
}

static int
pg_tag_rename(store_t *st, int64_t id, const char *new_name)
{
    struct args a;
    int64_t n = 0;
    int rc;

    if (!fits(new_name, STORE_TAG_MAX) || new_name[0] == '\0')
        return ODS_E_INVAL;
    args_init(&a);
    arg_i64(&a, id);
    arg_text(&a, new_name);
    if ((rc = write_store(st, S_TAG_RENAME, &a, &n)) != ODS_E_OK)
        return rc;
    return n == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
}

/* tag_del_tx deletes a tag; a user scope that named it changes, so the auth epoch
 * moves then. */
static int
tag_del_tx(struct conn *c, void *ctx)
{
    const int64_t *id = ctx;
    PGresult *res = NULL;
    struct args a;
    int64_t scoped = 0, n = 0;
    int rc;

    if ((rc = run(c, S_TAG_SCOPED, args_ids(&a, *id, 0, 1), &res)) != ODS_E_OK)
        return rc;
    scoped = PQntuples(res) > 0 ? col_i64(res, 0, 0) : 0;
    PQclear(res);
    if ((rc = run_changed(c, S_TAG_DEL, args_ids(&a, *id, 0, 1), &n)) != ODS_E_OK)
        return rc;
    if (n == 0)
        return ODS_E_NOTFOUND;
    return scoped > 0 ? run(c, S_EPOCH_BUMP, NULL, NULL) : ODS_E_OK;
}

static int
pg_tag_del(store_t *st, int64_t id)
{
    return in_tx(st, tag_del_tx, &id);
}

/* One tag put on or taken off one asset. */
struct tag_link {
    enum stmt_id id;
    int64_t      tag_id, asset_id;
};

static int
tag_link_tx(struct conn *c, void *ctx)
{
    const struct tag_link *l = ctx;
    struct args a;
    int rc;

    if ((rc = exists_id(c, S_ASSET_EXISTS, l->asset_id)) != ODS_E_OK ||
        (rc = exists_id(c, S_TAG_GET_ID, l->tag_id)) != ODS_E_OK)
        return rc;
    return run(c, l->id, args_ids(&a, l->asset_id, l->tag_id, 2), NULL);
}

static int
pg_tag_assign(store_t *st, int64_t tag_id, int64_t asset_id)
{
    struct tag_link l = { S_TAG_ASSIGN, tag_id, asset_id };

    return in_tx(st, tag_link_tx, &l);
}

static int
pg_tag_unassign(store_t *st, int64_t tag_id, int64_t asset_id)
{
    struct tag_link l = { S_TAG_UNASSIGN, tag_id, asset_id };

    return in_tx(st, tag_link_tx, &l);
}

static int
pg_asset_tags(store_t *st, int64_t asset_id, struct tag **out, size_t *n)
{
    void *rows = NULL;
    struct args a;
    int rc = list_store(st, S_ASSET_TAGS, args_ids(&a, asset_id, 0, 1), tag_read,
        sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

/* user_id_lock reads (and locks) a user's id by name. */
static int
user_id_lock(struct conn *c, const char *name, int64_t *id)
{
    PGresult *res = NULL;
    struct args a;
    int rc;

    args_init(&a);
    arg_text(&a, name);
    if ((rc = run(c, S_USER_ID, &a, &res)) == ODS_E_OK) {
        if (PQntuples(res) == 0)
            rc = ODS_E_NOTFOUND;
        else
            *id = col_i64(res, 0, 0);
    }
    PQclear(res);
    return rc;
}

static int
set_scope_tx(struct conn *c, void *ctx)
{
    const struct tag_set *ts = ctx;
    struct args a;
    int64_t uid = 0;
    int rc;

    if ((rc = user_id_lock(c, ts->user, &uid)) != ODS_E_OK ||
        (rc = tags_exist(c, ts->ids, ts->n)) != ODS_E_OK ||
        (rc = run(c, S_SCOPE_CLEAR, args_ids(&a, uid, 0, 1), NULL)) != ODS_E_OK)
        return rc;
    for (size_t i = 0; i < ts->n && rc == ODS_E_OK; i++)
        rc = run(c, S_SCOPE_ADD, args_ids(&a, uid, ts->ids[i], 2), NULL);
    return rc == ODS_E_OK ? run(c, S_EPOCH_BUMP, NULL, NULL) : rc;
}

static int
pg_user_set_scope(store_t *st, const char *user, const int64_t *tag_ids, size_t n)
{
    struct tag_set ts = { .user = user, .ids = tag_ids, .n = n };

    return in_tx(st, set_scope_tx, &ts);
}

static int
pg_user_scope(store_t *st, const char *user, struct tag **out, size_t *n)
{
    void *rows = NULL;
    struct args a;
    int rc;

    args_init(&a);
    arg_text(&a, user);
    rc = list_store(st, S_SCOPE_LIST, &a, tag_read, sizeof(**out), &rows, n);
    *out = rows;
    return rc;
}

static int
set_limits_tx(struct conn *c, void *ctx)
{
    const struct tag_set *ts = ctx;
    struct args a;
    int64_t uid = 0;
    int rc;

    if ((rc = user_id_lock(c, ts->user, &uid)) != ODS_E_OK)
        return rc;
    args_init(&a);
    arg_i64(&a, uid);
    arg_i64(&a, ts->limits->calls);
    arg_i64(&a, ts->limits->window_s);
    arg_i64(&a, ts->limits->concurrency);
    if ((rc = run(c, S_LIMITS_SET, &a, NULL)) != ODS_E_OK)
        return rc;
    return run(c, S_EPOCH_BUMP, NULL, NULL);
}

static int
pg_user_set_limits(store_t *st, const char *user, const struct user_limits *l)
{
    struct tag_set ts = { .user = user, .limits = l };

    if (l->calls < 0 || l->window_s < 0 || l->concurrency < 0)
        return ODS_E_INVAL;
    return in_tx(st, set_limits_tx, &ts);
}

static int
pg_user_limits(store_t *st, const char *user, struct user_limits *out)
{
    struct args a;

    args_init(&a);
    arg_text(&a, user);
    return get_store(st, S_LIMITS_GET, &a, limits_read, out, sizeof(*out));
}

/* --- asset search by QPS filters ---------------------------------------------------- */

static const struct filter_dialect pg_dialect = {
    .mark     = '$',
    .position = "strpos",
    .in_int   = { "(SELECT v::bigint FROM json_array_elements_text(", "::json) v)" },
    .in_text  = { "(SELECT lower(v) FROM json_array_elements_text(", "::json) v)" },
};

/* query_run builds q's statement and runs it on a pooled connection (a read: run again
 * once when the session was found lost while idle, as run() does). On success *out
 * gets the result, which the caller clears. */
static int
query_run(store_t *st, const struct asset_query *q, enum filter_sql_kind kind, PGresult **out)
{
    struct filter_sql f;
    const char **values = NULL;
    struct conn *c = NULL;
    int rc = filter_sql_build(&pg_dialect, q, kind, &f);

    *out = NULL;
    if (rc != ODS_E_OK)
        goto out;
    if (f.nparams > 0 && (values = calloc(f.nparams, sizeof(*values))) == NULL) {
        rc = ODS_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < f.nparams; i++)
        values[i] = f.params[i].text;
    c = conn_acquire(st);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (PQstatus(c->pg) != CONNECTION_OK && conn_revive(c) != ODS_E_OK) {
            rc = ODS_E_UNAVAILABLE;
            break;
        }
        PGresult *res = PQexecParams(c->pg, f.sql.data, (int)f.nparams, NULL, values, NULL,
            NULL, 0);
        if (result_ok(res)) {
            *out = res;
            rc = ODS_E_OK;
            break;
        }
        rc = result_code(c->pg, res);
        PQclear(res);
        if (rc != ODS_E_UNAVAILABLE || conn_revive(c) != ODS_E_OK)
            break;
    }
out:
    if (c != NULL)
        conn_release(c);
    free(values);
    filter_sql_free(&f);
    return rc;
}

static int
pg_asset_search(store_t *st, const struct asset_query *q, int64_t **ids, size_t *n, bool *more)
{
    PGresult *res = NULL;
    int rc = query_run(st, q, FILTER_SQL_IDS, &res);

    *ids = NULL;
    *n = 0;
    *more = false;
    if (rc != ODS_E_OK)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    if (q->limit > 0 && rows > q->limit) {
        rows = q->limit;
        *more = true;
    }
    if (rows > 0) {
        int64_t *list = calloc(rows, sizeof(*list));
        if (list == NULL) {
            PQclear(res);
            return ODS_E_NOMEM;
        }
        for (size_t i = 0; i < rows; i++)
            list[i] = col_i64(res, (int)i, 0);
        *ids = list;
        *n = rows;
    }
    PQclear(res);
    return ODS_E_OK;
}

static int
pg_asset_count(store_t *st, const struct asset_query *q, size_t *n)
{
    PGresult *res = NULL;
    int rc = query_run(st, q, FILTER_SQL_COUNT, &res);

    *n = 0;
    if (rc == ODS_E_OK)
        *n = (size_t)col_i64(res, 0, 0);
    PQclear(res);
    return rc;
}

/* set_modules_tx changes the modules of every asset inside the caller's transaction;
 * the rows are locked as read, so concurrent changes do not interleave. */
static int
set_modules_tx(struct conn *c, const int64_t *ids, size_t n, unsigned on, unsigned off,
    const char **why)
{
    int64_t now = now_ms();

    for (size_t i = 0; i < n; i++) {
        PGresult *res = NULL;
        struct args a;
        unsigned mods;
        int64_t changed;
        int rc;

        args_init(&a);
        arg_i64(&a, ids[i]);
        if ((rc = run(c, S_ASSET_MODULES_LOCK, &a, &res)) != ODS_E_OK)
            return rc;
        if (PQntuples(res) == 0) {
            PQclear(res);
            return ODS_E_NOTFOUND;
        }
        mods = ((unsigned)col_i64(res, 0, 0) | on) & ~off;
        PQclear(res);
        const char *bad = filter_check_modules(mods);
        if (bad != NULL) {
            if (why != NULL)
                *why = bad;
            return ODS_E_PERM;
        }
        args_init(&a);
        arg_i64(&a, ids[i]);
        arg_i64(&a, (int64_t)mods);
        arg_i64(&a, now);
        if ((rc = run_changed(c, S_ASSET_SET_MODULES, &a, &changed)) != ODS_E_OK)
            return rc;
    }
    return ODS_E_OK;
}

static int
pg_asset_set_modules(store_t *st, const int64_t *ids, size_t n, unsigned on, unsigned off,
    const char **why)
{
    struct conn *c = conn_acquire(st);
    int rc = ODS_E_BUSY;

    if (why != NULL)
        *why = NULL;
    /* a deadlock with another activation over the same assets: run it again */
    for (int tries = 0; rc == ODS_E_BUSY && tries < BATCH_TRIES; tries++) {
        if ((rc = tx_begin(c)) != ODS_E_OK)
            break;
        rc = set_modules_tx(c, ids, n, on, off, why);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

/* --- vulnerability assessment ------------------------------------------------------ */

/* kb_one imports one record (see store_kb_import) and counts it. */
static int
kb_one(struct conn *c, const struct kb_record *r, int64_t now, struct kb_counts *cnt)
{
    PGresult *res = NULL;
    bool held = false, newer = true;
    struct args a;
    int rc;

    if (!fits(r->id, STORE_ADVISORY_ID_MAX) || r->id[0] == '\0' ||
        !utf8_valid(r->document, r->len))
        return ODS_E_INVAL;
    args_init(&a);
    arg_text(&a, r->id);
    if ((rc = run(c, S_KB_GET, &a, &res)) != ODS_E_OK)
        return rc;
    if (PQntuples(res) > 0) {
        int64_t old = col_i64(res, 0, 0);
        size_t len = (size_t)PQgetlength(res, 0, 1);
        held = true;
        newer = r->modified_ms > old || (r->modified_ms == 0 && old == 0 &&
            (len != r->len || (len > 0 && memcmp(PQgetvalue(res, 0, 1), r->document, len) != 0)));
    }
    PQclear(res);
    if (!newer) {
        cnt->skipped++;
        return ODS_E_OK;
    }
    args_init(&a);
    arg_text(&a, r->id);
    arg_i64(&a, r->modified_ms);
    arg_doc(&a, r->document, r->len);
    arg_i64(&a, now);
    if ((rc = run(c, S_KB_PUT, &a, NULL)) != ODS_E_OK)
        return rc;
    args_init(&a);
    arg_text(&a, r->id);
    if ((rc = run(c, S_KB_ALIAS_DEL, &a, NULL)) != ODS_E_OK)
        return rc;
    for (size_t i = 0; i < r->naliases; i++) {
        args_init(&a);
        arg_text(&a, r->aliases[i]);
        arg_text(&a, r->id);
        if ((rc = run(c, S_KB_ALIAS_ADD, &a, NULL)) != ODS_E_OK)
            return rc;
    }
    if (held)
        cnt->updated++;
    else
        cnt->added++;
    return ODS_E_OK;
}

static int
pg_kb_import(store_t *st, const struct kb_record *recs, size_t n, struct kb_counts *out)
{
    struct conn *c = conn_acquire(st);
    struct kb_counts cnt = { 0 };
    int64_t now = now_ms();
    int rc = ODS_E_BUSY;

    for (int tries = 0; tries < BATCH_TRIES && rc == ODS_E_BUSY; tries++) {
        memset(&cnt, 0, sizeof(cnt));
        if ((rc = tx_begin(c)) != ODS_E_OK)
            break;
        for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
            rc = kb_one(c, &recs[i], now, &cnt);
        if (rc == ODS_E_OK && cnt.added + cnt.updated > 0)
            rc = run(c, S_KB_EPOCH_BUMP, NULL, NULL);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    if (rc != ODS_E_OK)
        memset(&cnt, 0, sizeof(cnt));
    *out = cnt;
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

/* scalar reads the int64 of a statement without parameters. */
static int
scalar(store_t *st, enum stmt_id id, int64_t *out)
{
    struct conn *c = conn_acquire(st);
    PGresult *res = NULL;
    int rc = run(c, id, NULL, &res);

    if (rc == ODS_E_OK) {
        if (PQntuples(res) > 0)
            *out = col_i64(res, 0, 0);
        else
            rc = ODS_E_STORE;
    }
    PQclear(res);
    conn_release(c);
    return rc;
}

static int
pg_kb_epoch(store_t *st, int64_t *out)
{
    return scalar(st, S_KB_EPOCH_GET, out);
}

static int
pg_kb_count(store_t *st, size_t *n)
{
    int64_t v = 0;
    int rc = scalar(st, S_KB_COUNT, &v);

    *n = rc == ODS_E_OK ? (size_t)v : 0;
    return rc;
}

static int
pg_kb_each(store_t *st, store_advisory_fn fn, void *arg)
{
    struct conn *c = conn_acquire(st);
    PGresult *res = NULL;
    int rc = run(c, S_KB_EACH, NULL, &res);

    /* the rows are in res: the connection goes back to the pool before the walk */
    conn_release(c);
    for (int r = 0; rc == ODS_E_OK && r < PQntuples(res); r++)
        rc = fn(arg, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), (size_t)PQgetlength(res, r, 1));
    PQclear(res);
    return rc;
}

static int
pg_kb_claim(store_t *st, int64_t epoch, bool *mine)
{
    struct conn *c = conn_acquire(st);
    struct args a;
    int64_t changed = 0;
    int rc;

    args_init(&a);
    arg_i64(&a, epoch);
    rc = run_changed(c, S_KB_CLAIM, &a, &changed);
    conn_release(c);
    *mine = rc == ODS_E_OK && changed > 0;
    return rc;
}

static int
pg_manifest_get(store_t *st, int64_t asset_id, char **json, size_t *len, char *hash,
    int64_t *scanned_ms)
{
    struct conn *c = conn_acquire(st);
    PGresult *res = NULL;
    struct args a;
    int rc;

    *json = NULL;
    args_init(&a);
    arg_i64(&a, asset_id);
    if ((rc = run(c, S_MANIFEST_GET, &a, &res)) == ODS_E_OK) {
        if (PQntuples(res) == 0) {
            rc = ODS_E_NOTFOUND;
        } else if ((rc = doc_copy(res, 0, json, len)) == ODS_E_OK) {
            if (hash != NULL)
                col_text(res, 0, 1, hash, STORE_MANIFEST_HASH);
            if (scanned_ms != NULL)
                *scanned_ms = col_i64(res, 0, 2);
        }
    }
    PQclear(res);
    conn_release(c);
    return rc;
}

static void
id_read(const PGresult *res, int r, void *record)
{
    *(int64_t *)record = col_i64(res, r, 0);
}

static int
pg_manifest_assets(store_t *st, int64_t **ids, size_t *n)
{
    void *rows = NULL;
    int rc = list_store(st, S_MANIFEST_ASSETS, NULL, id_read, sizeof(**ids), &rows, n);

    *ids = rows;
    return rc;
}

static int
pg_vuln_last_scan(store_t *st, int64_t asset_id, int64_t *ms)
{
    struct conn *c = conn_acquire(st);
    PGresult *res = NULL;
    struct args a;
    int rc;

    args_init(&a);
    arg_i64(&a, asset_id);
    if ((rc = run(c, S_MANIFEST_GET, &a, &res)) == ODS_E_OK) {
        if (PQntuples(res) == 0)
            rc = ODS_E_NOTFOUND;
        else
            *ms = col_i64(res, 0, 2);
    }
    PQclear(res);
    conn_release(c);
    return rc;
}

static void finding_read(const PGresult *res, int r, void *record);

static int
finding_put(struct conn *c, int64_t asset_id, const struct finding *f, int64_t now)
{
    struct args a;

    args_init(&a);
    arg_i64(&a, asset_id);
    arg_text_fit(&a, f->advisory_id, sizeof(f->advisory_id));
    arg_text_fit(&a, f->package, sizeof(f->package));
    arg_text_fit(&a, f->aliases, sizeof(f->aliases));
    arg_text_fit(&a, f->installed_version, sizeof(f->installed_version));
    arg_text_fit(&a, f->fixed_version, sizeof(f->fixed_version));
    arg_text_fit(&a, f->severity, sizeof(f->severity));
    arg_i64(&a, f->score10);
    arg_i64(&a, now);
    return run(c, S_FINDING_PUT, &a, NULL);
}

static int
finding_close(struct conn *c, int64_t asset_id, const struct finding *f, int64_t now)
{
    struct args a;

    args_init(&a);
    arg_i64(&a, asset_id);
    arg_text_fit(&a, f->advisory_id, sizeof(f->advisory_id));
    arg_text_fit(&a, f->package, sizeof(f->package));
    arg_i64(&a, now);
    return run(c, S_FINDING_CLOSE, &a, NULL);
}

/* findings_tx writes one asset's assessment inside the caller's transaction: only what
 * findings_diff says changed, then one statement for the last seen time of the rest. */
static int
findings_tx(struct conn *c, const struct asset_findings *af, int64_t now)
{
    struct finding_change *ch = NULL;
    void *rows = NULL;
    size_t nopen = 0, nch = 0;
    struct args a;
    int rc;

    args_init(&a);
    arg_i64(&a, af->asset_id);
    if ((rc = read_all(c, S_FINDING_OPEN, &a, finding_read, sizeof(struct finding), &rows,
            &nopen)) != ODS_E_OK ||
        (rc = findings_diff(rows, nopen, af->findings, af->n, &ch, &nch)) != ODS_E_OK)
        goto out;
    for (size_t i = 0; i < nch && rc == ODS_E_OK; i++)
        rc = ch[i].op == FINDING_PUT ? finding_put(c, af->asset_id, ch[i].f, now) :
            finding_close(c, af->asset_id, ch[i].f, now);
    if (rc == ODS_E_OK && af->n > 0) {
        args_init(&a);
        arg_i64(&a, af->asset_id);
        arg_i64(&a, now);
        rc = run(c, S_FINDING_SEEN, &a, NULL);
    }
out:
    free(ch);
    free(rows);
    return rc;
}

static int
pg_findings_write(store_t *st, const struct asset_findings *items, size_t n, int64_t now)
{
    struct conn *c = conn_acquire(st);
    int rc = ODS_E_BUSY;

    for (int tries = 0; tries < BATCH_TRIES && rc == ODS_E_BUSY; tries++) {
        if ((rc = tx_begin(c)) != ODS_E_OK)
            break;
        for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
            rc = findings_tx(c, &items[i], now);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc == ODS_E_BUSY ? ODS_E_STORE : rc;
}

static void
finding_read(const PGresult *res, int r, void *record)
{
    struct finding *f = record;

    f->asset_id = col_i64(res, r, 0);
    col_text(res, r, 1, f->advisory_id, sizeof(f->advisory_id));
    col_text(res, r, 2, f->aliases, sizeof(f->aliases));
    col_text(res, r, 3, f->package, sizeof(f->package));
    col_text(res, r, 4, f->installed_version, sizeof(f->installed_version));
    col_text(res, r, 5, f->fixed_version, sizeof(f->fixed_version));
    col_text(res, r, 6, f->severity, sizeof(f->severity));
    f->score10 = col_int(res, r, 7);
    f->first_seen_ms = col_i64(res, r, 8);
    f->last_seen_ms = col_i64(res, r, 9);
    f->fixed_ms = col_i64(res, r, 10);
}

static int
pg_findings_list(store_t *st, const struct finding_query *q, struct finding **out, size_t *n)
{
    void *rows = NULL;
    struct args a;
    int rc;

    args_init(&a);
    if (q->asset_id > 0)
        arg_i64(&a, q->asset_id);
    else
        arg_text(&a, q->vuln_id);
    if (q->severity != NULL)
        arg_text(&a, q->severity);
    else
        arg_null(&a);
    if (q->package != NULL)
        arg_text(&a, q->package);
    else
        arg_null(&a);
    arg_i64(&a, (int64_t)q->status);
    if (q->limit == 0 || q->limit > INT64_MAX)
        arg_null(&a);
    else
        arg_i64(&a, (int64_t)q->limit);
    rc = list_store(st, q->asset_id > 0 ? S_FINDING_BY_ASSET : S_FINDING_BY_VULN, &a,
        finding_read, sizeof(**out), &rows, n);
    *out = rows;
    return rc;
}

static void
severity_read(const PGresult *res, int r, void *record)
{
    struct severity_count *s = record;

    col_text(res, r, 0, s->severity, sizeof(s->severity));
    s->open = (size_t)col_i64(res, r, 1);
    s->fixed = (size_t)col_i64(res, r, 2);
    s->assets = (size_t)col_i64(res, r, 3);
}

static int
pg_findings_summary(store_t *st, struct severity_count **out, size_t *n,
    size_t *assets_affected, size_t *assets_scanned)
{
    void *rows = NULL;
    int64_t affected = 0, scanned = 0;
    int rc = list_store(st, S_FINDING_SUMMARY, NULL, severity_read, sizeof(**out), &rows, n);

    *out = rows;
    if (rc == ODS_E_OK && (rc = scalar(st, S_FINDING_AFFECTED, &affected)) == ODS_E_OK)
        rc = scalar(st, S_MANIFEST_COUNT, &scanned);
    if (rc != ODS_E_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *assets_affected = (size_t)affected;
    *assets_scanned = (size_t)scanned;
    return ODS_E_OK;
}

static const struct store_ops pg_ops = {
    .name              = "postgresql",
    .close             = pg_close,
    .launch_batch      = pg_launch_batch,
    .job_get           = pg_job_get,
    .job_list          = pg_job_list,
    .user_add          = pg_user_add,
    .user_get          = pg_user_get,
    .user_list         = pg_user_list,
    .user_set_password = pg_user_set_password,
    .user_set_role     = pg_user_set_role,
    .user_del          = pg_user_del,
    .user_login_failed = pg_user_login_failed,
    .user_login_ok     = pg_user_login_ok,
    .auth_epoch        = pg_auth_epoch,
    .asset_add         = pg_asset_add,
    .asset_get         = pg_asset_get,
    .asset_list        = pg_asset_list,
    .audit_add         = pg_audit_add,
    .audit_list        = pg_audit_list,
    .key_add           = pg_key_add,
    .key_list          = pg_key_list,
    .key_revoke        = pg_key_revoke,
    .key_get_id        = pg_key_get_id,
    .key_update        = pg_key_update,
    .key_del           = pg_key_del,
    .key_set_tags      = pg_key_set_tags,
    .key_tags          = pg_key_tags,
    .tag_add           = pg_tag_add,
    .tag_get           = pg_tag_get,
    .tag_get_id        = pg_tag_get_id,
    .tag_list          = pg_tag_list,
    .tag_rename        = pg_tag_rename,
    .tag_del           = pg_tag_del,
    .tag_assign        = pg_tag_assign,
    .tag_unassign      = pg_tag_unassign,
    .asset_tags        = pg_asset_tags,
    .user_set_scope    = pg_user_set_scope,
    .user_scope        = pg_user_scope,
    .user_set_limits   = pg_user_set_limits,
    .user_limits       = pg_user_limits,
    .enroll            = pg_enroll,
    .agent_get         = pg_agent_get,
    .profile_add       = pg_profile_add,
    .profile_list      = pg_profile_list,
    .profile_get       = pg_profile_get,
    .profile_assign    = pg_profile_assign,
    .profile_for_asset = pg_profile_for_asset,
    .apply             = pg_apply,
    .jobs_sweep        = pg_jobs_sweep,
    .result_get        = pg_result_get,
    .inventory_get     = pg_inventory_get,
    .inventory_history = pg_inventory_history,
    .asset_search      = pg_asset_search,
    .asset_count       = pg_asset_count,
    .asset_set_modules = pg_asset_set_modules,
    .watch_jobs        = pg_watch_jobs,
    .kb_import         = pg_kb_import,
    .kb_epoch          = pg_kb_epoch,
    .kb_count          = pg_kb_count,
    .kb_each           = pg_kb_each,
    .kb_claim          = pg_kb_claim,
    .manifest_get      = pg_manifest_get,
    .manifest_assets   = pg_manifest_assets,
    .vuln_last_scan    = pg_vuln_last_scan,
    .findings_write    = pg_findings_write,
    .findings_list     = pg_findings_list,
    .findings_summary  = pg_findings_summary,
};
