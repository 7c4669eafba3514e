/* store_sqlite.c - the SQLite backend of store.h: a small pool of connections in WAL
 * mode with synchronous=FULL (a COMMIT that returned is on disk), each with its own
 * mutex and its own cache of persistent prepared statements, and versioned schema
 * migrations applied at open. */
#include "store_impl.h"
#include "filter_sql.h"
#include "err.h"
#include "scan.h"
#include "util.h"

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>
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

    /* v2: agents. Enrollment keys, agent identities, configuration profiles, the job's
     * life (timestamps, lease, attempts) and the documents scans upload. */
    "CREATE TABLE actkeys ("
    "  id              INTEGER PRIMARY KEY,"
    "  token           TEXT    NOT NULL UNIQUE,"
    "  name            TEXT    NOT NULL DEFAULT '',"
    "  modules         INTEGER NOT NULL DEFAULT 0,"
    "  max_uses        INTEGER NOT NULL DEFAULT 0,"
    "  uses            INTEGER NOT NULL DEFAULT 0,"
    "  expires_ms      INTEGER NOT NULL DEFAULT 0,"
    "  revoked         INTEGER NOT NULL DEFAULT 0,"
    "  created_ms      INTEGER NOT NULL);"
    "CREATE TABLE profiles ("
    "  id              INTEGER PRIMARY KEY,"
    "  name            TEXT    NOT NULL UNIQUE,"
    "  os_family       TEXT    NOT NULL DEFAULT '',"
    "  is_default      INTEGER NOT NULL DEFAULT 0,"
    "  cpu_limit       INTEGER NOT NULL,"
    "  cpu_throttle    INTEGER NOT NULL,"
    "  checkin_hold_s  INTEGER NOT NULL,"
    "  lease_s         INTEGER NOT NULL,"
    "  max_concurrent  INTEGER NOT NULL);"
    /* one default per OS family */
    "CREATE UNIQUE INDEX profiles_default ON profiles(os_family) WHERE is_default;"
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
    "ALTER TABLE assets ADD COLUMN profile_id    INTEGER REFERENCES profiles(id);"
    "ALTER TABLE assets ADD COLUMN key_id        INTEGER REFERENCES actkeys(id);"
    "ALTER TABLE jobs ADD COLUMN dispatched_ms     INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN started_ms        INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN finished_ms       INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN lease_deadline_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN attempts          INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN cpu_applied       TEXT    NOT NULL DEFAULT '';"
    "ALTER TABLE jobs ADD COLUMN reason            TEXT    NOT NULL DEFAULT '';"
    /* the sweep looks for expired leases; a check-in for its asset's QUEUED jobs */
    "CREATE INDEX jobs_lease ON jobs(state, lease_deadline_ms);"
    "CREATE INDEX jobs_claim ON jobs(asset_id, state, id);"
    "CREATE TABLE agents ("
    "  uuid            TEXT    PRIMARY KEY,"
    "  asset_id        INTEGER NOT NULL UNIQUE REFERENCES assets(id),"
    "  secret_hash     TEXT    NOT NULL,"
    "  enrolled_ms     INTEGER NOT NULL);"
    "CREATE TABLE job_results ("
    "  job_id          INTEGER PRIMARY KEY REFERENCES jobs(id),"
    "  asset_id        INTEGER NOT NULL,"
    "  scan_type       INTEGER NOT NULL,"
    "  document        TEXT    NOT NULL,"
    "  created_ms      INTEGER NOT NULL);"
    "CREATE TABLE inventory ("
    "  asset_id        INTEGER PRIMARY KEY REFERENCES assets(id),"
    "  job_id          INTEGER NOT NULL,"
    "  collected_ms    INTEGER NOT NULL,"
    "  document        TEXT    NOT NULL);"
    "CREATE TABLE inventory_history ("
    "  asset_id        INTEGER NOT NULL,"
    "  job_id          INTEGER NOT NULL,"
    "  at_ms           INTEGER NOT NULL);"
    "CREATE INDEX inventory_history_asset ON inventory_history(asset_id, at_ms);",

    /* 3: tags, user scopes and limits (the QPS API around the launch) */
    "CREATE TABLE tags ("
    "  id              INTEGER PRIMARY KEY,"
    "  name            TEXT    NOT NULL UNIQUE,"
    "  created_ms      INTEGER  NOT NULL);"
    "CREATE TABLE asset_tags ("
    "  asset_id        INTEGER  NOT NULL REFERENCES assets(id) ON DELETE CASCADE,"
    "  tag_id          INTEGER  NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (asset_id, tag_id));"
    "CREATE INDEX asset_tags_tag ON asset_tags(tag_id, asset_id);"
    "CREATE TABLE user_scopes ("
    "  user_id         INTEGER  NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  tag_id          INTEGER  NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (user_id, tag_id));"
    "CREATE TABLE user_limits ("
    "  user_id         INTEGER  PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  calls           INTEGER NOT NULL DEFAULT 0,"
    "  window_s        INTEGER NOT NULL DEFAULT 0,"
    "  concurrency     INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE key_tags ("
    "  key_id          INTEGER  NOT NULL REFERENCES actkeys(id) ON DELETE CASCADE,"
    "  tag_id          INTEGER  NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (key_id, tag_id));",

    /* 4: vulnerability assessment: the knowledge base, manifests, findings */
    "CREATE TABLE advisories ("
    "  id              TEXT    PRIMARY KEY,"
    "  modified_ms     INTEGER NOT NULL,"
    "  document        TEXT    NOT NULL,"
    "  imported_ms     INTEGER NOT NULL);"
    "CREATE TABLE advisory_aliases ("
    "  alias           TEXT    NOT NULL,"
    "  advisory_id     TEXT    NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (alias, advisory_id));"
    "CREATE INDEX advisory_aliases_advisory ON advisory_aliases(advisory_id);"
    "CREATE TABLE vuln_manifests ("
    "  asset_id        INTEGER PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,"
    "  job_id          INTEGER NOT NULL,"
    "  hash            TEXT    NOT NULL,"
    "  document        TEXT    NOT NULL,"
    "  collected_ms    INTEGER NOT NULL,"
    "  scanned_ms      INTEGER NOT NULL);"
    "CREATE TABLE vuln_findings ("
    "  asset_id        INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,"
    "  advisory_id     TEXT    NOT NULL,"
    "  package         TEXT    NOT NULL,"
    "  aliases         TEXT    NOT NULL,"
    "  installed_version TEXT  NOT NULL,"
    "  fixed_version   TEXT    NOT NULL,"
    "  severity        TEXT    NOT NULL,"
    "  score10         INTEGER NOT NULL,"
    "  first_seen_ms   INTEGER NOT NULL,"
    "  last_seen_ms    INTEGER NOT NULL,"
    "  fixed_ms        INTEGER NOT NULL DEFAULT 0,"
    "  stale           INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (asset_id, advisory_id, package));"
    "CREATE INDEX vuln_findings_advisory ON vuln_findings(advisory_id);"
    "INSERT INTO meta(key, value) VALUES ('kb_epoch', 0), ('kb_assessed_epoch', 0);",
};
#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(MIGRATION_COUNT == STORE_SCHEMA_VERSION, "migrations and STORE_SCHEMA_VERSION disagree");

/* Set on every connection at open; journal_mode is checked separately. */
static const char *const pragmas[] = {
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
};

#define USER_COLS  "id, name, pwhash, role, created_ms, failed_count, failed_since_ms, " \
                   "locked_until_ms"
#define ASSET_COLS "id, agent_uuid, hostname, os_family, modules, created_ms, updated_ms, " \
                   "last_checkin_ms, fqdn, os_name, os_version, arch, machine_id, " \
                   "agent_version, last_address, profile_id, key_id"
#define JOB_COLS   "id, asset_id, scan_type, override_cpu, state, requested_by, " \
                   "requested_from, created_ms, updated_ms, dispatched_ms, started_ms, " \
                   "finished_ms, lease_deadline_ms, attempts, cpu_applied, reason"
#define AUDIT_COLS "id, at_ms, user, remote, action, target, result, detail"
#define KEY_COLS   "id, token, name, modules, max_uses, uses, expires_ms, revoked, created_ms"
#define AGENT_COLS "uuid, asset_id, secret_hash, enrolled_ms"
#define TAG_COLS   "id, name, created_ms"
#define TAG_COLS_T "t.id, t.name, t.created_ms"
#define PROFILE_COLS "id, name, os_family, is_default, cpu_limit, cpu_throttle, " \
                   "checkin_hold_s, lease_s, max_concurrent"

#define FINDING_COLS "asset_id, advisory_id, aliases, package, installed_version, fixed_version, " \
                     "severity, score10, first_seen_ms, last_seen_ms, fixed_ms"
/* ?3 severity, ?4 package (NULL: any), ?5 enum finding_status */
#define FINDING_FILTER " AND (?3 IS NULL OR severity = ?3) AND (?4 IS NULL OR package = ?4)" \
                       " AND (?5 = 0 OR (?5 = 1 AND fixed_ms = 0) OR (?5 = 2 AND fixed_ms <> 0))"

#define FIRST_ENROLLED_ID 100001     /* ids below are left to assets added by hand */
#define RESULT_DOC_MAX    (16u << 20) /* largest uploaded scan document, bytes */
#define EXPIRED_REASON    "not picked up in time"

enum stmt_id {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_EPOCH_GET, S_EPOCH_BUMP,
    S_USER_ADD, S_USER_GET, S_USER_LIST, S_USER_SET_PW, S_USER_SET_ROLE, S_USER_DEL,
    S_USER_LOCK_SET, S_USER_LOGIN_OK,
    S_ASSET_ADD, S_ASSET_GET, S_ASSET_LIST, S_ASSET_MODULES, S_ASSET_MAX_ID, S_ASSET_FREE_ID,
    S_ASSET_CHECKIN, S_ASSET_SET_PROFILE, S_ASSET_SET_MODULES,
    S_JOB_FIND, S_JOB_INSERT, S_JOB_GET, S_JOB_LIST_ALL, S_JOB_LIST_ASSET,
    S_JOB_QUEUED, S_JOB_DISPATCH, S_JOB_START, S_JOB_RENEW, S_JOB_FINISH,
    S_SWEEP_ASSETS, S_SWEEP_REQUEUE, S_SWEEP_EXPIRE,
    S_RESULT_ADD, S_RESULT_GET, S_INVENTORY_SET, S_INVENTORY_GET, S_HISTORY_ADD, S_HISTORY_LIST,
    S_KEY_ADD, S_KEY_LIST, S_KEY_GET, S_KEY_USE, S_KEY_REVOKE,
    S_KEY_GET_ID, S_KEY_UPDATE, S_KEY_UNLINK, S_KEY_DEL, S_KEY_TAGS_CLEAR, S_KEY_TAG_ADD,
    S_KEY_TAGS, S_ENROLL_TAGS,
    S_TAG_ADD, S_TAG_GET, S_TAG_GET_ID, S_TAG_LIST, S_TAG_RENAME, S_TAG_SCOPED, S_TAG_DEL,
    S_TAG_ASSIGN, S_TAG_UNASSIGN, S_ASSET_TAGS,
    S_SCOPE_CLEAR, S_SCOPE_ADD, S_SCOPE_LIST, S_LIMITS_SET, S_LIMITS_GET,
    S_AGENT_ADD, S_AGENT_GET,
    S_PROFILE_ADD, S_PROFILE_LIST, S_PROFILE_GET, S_PROFILE_FOR_ASSET,
    S_AUDIT_ADD, S_AUDIT_LIST,
    S_KB_GET, S_KB_PUT, S_KB_ALIAS_DEL, S_KB_ALIAS_ADD, S_KB_EPOCH_GET, S_KB_EPOCH_BUMP,
    S_KB_COUNT, S_KB_EACH, S_KB_CLAIM,
    S_MANIFEST_HASH, S_MANIFEST_SET, S_MANIFEST_SEEN, S_MANIFEST_GET, S_MANIFEST_ASSETS,
    S_FINDING_OPEN, S_FINDING_PUT, S_FINDING_CLOSE, S_FINDING_SEEN, S_FINDING_BY_ASSET, S_FINDING_BY_VULN,
    S_FINDING_SUMMARY, S_FINDING_AFFECTED, S_MANIFEST_COUNT,
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
    [S_ASSET_ADD]     = "INSERT INTO assets(" ASSET_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                        " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [S_ASSET_GET]     = "SELECT " ASSET_COLS " FROM assets WHERE id = ?1",
    [S_ASSET_LIST]    = "SELECT " ASSET_COLS " FROM assets ORDER BY id",
    [S_ASSET_MODULES] = "SELECT modules FROM assets WHERE id = ?1",
    [S_ASSET_MAX_ID]  = "SELECT max(id) FROM assets",
    /* only when the largest id is INT64_MAX: the lowest free id from the first one */
    [S_ASSET_FREE_ID] = "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM assets WHERE id = ?1) THEN ?1"
                        " ELSE (SELECT min(a.id) + 1 FROM assets a WHERE a.id >= ?1"
                        " AND a.id < 9223372036854775807"
                        " AND NOT EXISTS (SELECT 1 FROM assets b WHERE b.id = a.id + 1)) END",
    [S_ASSET_CHECKIN] = "UPDATE assets SET last_checkin_ms = ?2,"
                        " agent_version = coalesce(?3, agent_version),"
                        " last_address = coalesce(?4, last_address) WHERE id = ?1",
    [S_ASSET_SET_PROFILE] = "UPDATE assets SET profile_id = ?2, updated_ms = ?3 WHERE id = ?1",
    [S_ASSET_SET_MODULES] = "UPDATE assets SET modules = ?2, updated_ms = ?3 WHERE id = ?1",
    [S_JOB_FIND]      = "SELECT id FROM jobs WHERE asset_id = ?1 AND scan_type = ?2"
                        " AND override_cpu = ?3 AND state IN (0, 1, 2)",
    [S_JOB_INSERT]    = "INSERT INTO jobs(asset_id, scan_type, override_cpu, state, requested_by,"
                        " requested_from, created_ms, updated_ms)"
                        " VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?6)",
    [S_JOB_GET]       = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
    [S_JOB_LIST_ALL]  = "SELECT " JOB_COLS " FROM jobs ORDER BY id DESC",
    [S_JOB_LIST_ASSET]= "SELECT " JOB_COLS " FROM jobs WHERE asset_id = ?1 ORDER BY id DESC",
    [S_JOB_QUEUED]    = "SELECT id, scan_type FROM jobs WHERE asset_id = ?1 AND state = 0 ORDER BY id",
    [S_JOB_DISPATCH]  = "UPDATE jobs SET state = 1, dispatched_ms = ?2, updated_ms = ?2,"
                        " lease_deadline_ms = ?3, attempts = attempts + 1"
                        " WHERE id = ?1 AND state = 0",
    /* SET expressions see the old row: a second START keeps the first start time */
    [S_JOB_START]     = "UPDATE jobs SET state = 2,"
                        " started_ms = CASE WHEN state = 2 THEN started_ms ELSE ?2 END,"
                        " updated_ms = CASE WHEN state = 2 THEN updated_ms ELSE ?2 END,"
                        " lease_deadline_ms = ?3, cpu_applied = ?4 WHERE id = ?1",
    [S_JOB_RENEW]     = "UPDATE jobs SET lease_deadline_ms = ?2 WHERE id = ?1",
    [S_JOB_FINISH]    = "UPDATE jobs SET state = ?2, finished_ms = ?3, updated_ms = ?3,"
                        " lease_deadline_ms = 0, reason = ?4 WHERE id = ?1",
    [S_SWEEP_ASSETS]  = "SELECT DISTINCT asset_id FROM jobs WHERE state IN (1, 2)"
                        " AND lease_deadline_ms <= ?1",
    [S_SWEEP_REQUEUE] = "UPDATE jobs SET state = 0, lease_deadline_ms = 0, updated_ms = ?1"
                        " WHERE state IN (1, 2) AND lease_deadline_ms <= ?1",
    [S_SWEEP_EXPIRE]  = "UPDATE jobs SET state = 5, finished_ms = ?1, updated_ms = ?1,"
                        " reason = '" EXPIRED_REASON "' WHERE state = 0 AND created_ms < ?2",
    [S_RESULT_ADD]    = "INSERT INTO job_results(job_id, asset_id, scan_type, document, created_ms)"
                        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(job_id) DO NOTHING",
    [S_RESULT_GET]    = "SELECT document FROM job_results WHERE job_id = ?1",
    [S_INVENTORY_SET] = "INSERT INTO inventory(asset_id, job_id, collected_ms, document)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(asset_id) DO UPDATE SET"
                        " job_id = excluded.job_id, collected_ms = excluded.collected_ms,"
                        " document = excluded.document",
    [S_INVENTORY_GET] = "SELECT document, job_id, collected_ms FROM inventory WHERE asset_id = ?1",
    [S_HISTORY_ADD]   = "INSERT INTO inventory_history(asset_id, job_id, at_ms) VALUES (?1, ?2, ?3)",
    [S_HISTORY_LIST]  = "SELECT at_ms FROM inventory_history WHERE asset_id = ?1"
                        " ORDER BY at_ms DESC, rowid DESC LIMIT ?2",
    [S_KEY_ADD]       = "INSERT INTO actkeys(token, name, modules, max_uses, expires_ms, revoked,"
                        " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_KEY_LIST]      = "SELECT " KEY_COLS " FROM actkeys ORDER BY id",
    [S_KEY_GET]       = "SELECT " KEY_COLS " FROM actkeys WHERE token = ?1",
    [S_KEY_USE]       = "UPDATE actkeys SET uses = uses + 1 WHERE id = ?1",
    [S_KEY_REVOKE]    = "UPDATE actkeys SET revoked = 1 WHERE token = ?1 OR (name = ?1 AND name <> '')",
    [S_KEY_GET_ID]    = "SELECT " KEY_COLS " FROM actkeys WHERE id = ?1",
    [S_KEY_UPDATE]    = "UPDATE actkeys SET name = ?2, modules = ?3, max_uses = ?4, expires_ms = ?5,"
                        " revoked = ?6 WHERE id = ?1",
    [S_KEY_UNLINK]    = "UPDATE assets SET key_id = NULL WHERE key_id = ?1",
    [S_KEY_DEL]       = "DELETE FROM actkeys WHERE id = ?1",
    [S_KEY_TAGS_CLEAR]= "DELETE FROM key_tags WHERE key_id = ?1",
    [S_KEY_TAG_ADD]   = "INSERT INTO key_tags(key_id, tag_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [S_KEY_TAGS]      = "SELECT " TAG_COLS_T " FROM key_tags k JOIN tags t ON t.id = k.tag_id"
                        " WHERE k.key_id = ?1 ORDER BY t.name",
    [S_ENROLL_TAGS]   = "INSERT INTO asset_tags(asset_id, tag_id) SELECT ?1, tag_id FROM key_tags"
                        " WHERE key_id = ?2 ON CONFLICT DO NOTHING",
    [S_TAG_ADD]       = "INSERT INTO tags(name, created_ms) VALUES (?1, ?2)",
    [S_TAG_GET]       = "SELECT " TAG_COLS " FROM tags WHERE name = ?1",
    [S_TAG_GET_ID]    = "SELECT " TAG_COLS " FROM tags WHERE id = ?1",
    /* ASCII case-insensitive "contains"; NULL lists every tag */
    [S_TAG_LIST]      = "SELECT " TAG_COLS " FROM tags WHERE ?1 IS NULL"
                        " OR instr(lower(name), lower(?1)) > 0 ORDER BY name",
    [S_TAG_RENAME]    = "UPDATE tags SET name = ?2 WHERE id = ?1",
    [S_TAG_SCOPED]    = "SELECT count(*) FROM user_scopes WHERE tag_id = ?1",
    [S_TAG_DEL]       = "DELETE FROM tags WHERE id = ?1",
    [S_TAG_ASSIGN]    = "INSERT INTO asset_tags(asset_id, tag_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [S_TAG_UNASSIGN]  = "DELETE FROM asset_tags WHERE asset_id = ?1 AND tag_id = ?2",
    [S_ASSET_TAGS]    = "SELECT " TAG_COLS_T " FROM asset_tags a JOIN tags t ON t.id = a.tag_id"
                        " WHERE a.asset_id = ?1 ORDER BY t.name",
    [S_SCOPE_CLEAR]   = "DELETE FROM user_scopes WHERE user_id = ?1",
    [S_SCOPE_ADD]     = "INSERT INTO user_scopes(user_id, tag_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [S_SCOPE_LIST]    = "SELECT " TAG_COLS_T " FROM user_scopes s JOIN tags t ON t.id = s.tag_id"
                        " JOIN users u ON u.id = s.user_id WHERE u.name = ?1 ORDER BY t.name",
    [S_LIMITS_SET]    = "INSERT INTO user_limits(user_id, calls, window_s, concurrency)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user_id) DO UPDATE SET"
                        " calls = excluded.calls, window_s = excluded.window_s,"
                        " concurrency = excluded.concurrency",
    [S_LIMITS_GET]    = "SELECT coalesce(l.calls, 0), coalesce(l.window_s, 0),"
                        " coalesce(l.concurrency, 0) FROM users u"
                        " LEFT JOIN user_limits l ON l.user_id = u.id WHERE u.name = ?1",
    [S_AGENT_ADD]     = "INSERT INTO agents(" AGENT_COLS ") VALUES (?1, ?2, ?3, ?4)",
    [S_AGENT_GET]     = "SELECT " AGENT_COLS " FROM agents WHERE uuid = ?1",
    [S_PROFILE_ADD]   = "INSERT INTO profiles(name, os_family, is_default, cpu_limit, cpu_throttle,"
                        " checkin_hold_s, lease_s, max_concurrent)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_PROFILE_LIST]  = "SELECT " PROFILE_COLS " FROM profiles ORDER BY id",
    [S_PROFILE_GET]   = "SELECT " PROFILE_COLS " FROM profiles WHERE name = ?1",
    /* its own profile, else its OS family's default, else the linux default */
    [S_PROFILE_FOR_ASSET] =
        "SELECT " PROFILE_COLS " FROM ("
        " SELECT p.*, 0 AS rank FROM assets a JOIN profiles p ON p.id = a.profile_id"
        "  WHERE a.id = ?1"
        " UNION ALL SELECT p.*, 1 FROM assets a JOIN profiles p"
        "  ON p.is_default AND p.os_family = a.os_family WHERE a.id = ?1"
        " UNION ALL SELECT p.*, 2 FROM assets a JOIN profiles p"
        "  ON p.is_default AND p.os_family = 'linux' WHERE a.id = ?1)"
        " ORDER BY rank LIMIT 1",
    [S_AUDIT_ADD]     = "INSERT INTO audit(at_ms, user, remote, action, target, result, detail)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_AUDIT_LIST]    = "SELECT " AUDIT_COLS " FROM audit ORDER BY id DESC LIMIT ?1",
    [S_KB_GET]        = "SELECT modified_ms, document FROM advisories WHERE id = ?1",
    [S_KB_PUT]        = "INSERT INTO advisories(id, modified_ms, document, imported_ms)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET"
                        " modified_ms = excluded.modified_ms, document = excluded.document,"
                        " imported_ms = excluded.imported_ms",
    [S_KB_ALIAS_DEL]  = "DELETE FROM advisory_aliases WHERE advisory_id = ?1",
    [S_KB_ALIAS_ADD]  = "INSERT INTO advisory_aliases(alias, advisory_id) VALUES (?1, ?2)"
                        " ON CONFLICT DO NOTHING",
    [S_KB_EPOCH_GET]  = "SELECT value FROM meta WHERE key = 'kb_epoch'",
    [S_KB_EPOCH_BUMP] = "UPDATE meta SET value = value + 1 WHERE key = 'kb_epoch'",
    [S_KB_COUNT]      = "SELECT count(*) FROM advisories",
    [S_KB_EACH]       = "SELECT id, document FROM advisories ORDER BY id",
    [S_KB_CLAIM]      = "UPDATE meta SET value = ?1 WHERE key = 'kb_assessed_epoch' AND value < ?1",
    [S_MANIFEST_HASH] = "SELECT hash FROM vuln_manifests WHERE asset_id = ?1",
    [S_MANIFEST_SET]  = "INSERT INTO vuln_manifests(asset_id, job_id, hash, document, collected_ms,"
                        " scanned_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(asset_id) DO UPDATE SET"
                        " job_id = excluded.job_id, hash = excluded.hash, document = excluded.document,"
                        " collected_ms = excluded.collected_ms, scanned_ms = excluded.scanned_ms",
    [S_MANIFEST_SEEN] = "UPDATE vuln_manifests SET scanned_ms = ?2 WHERE asset_id = ?1",
    [S_MANIFEST_GET]  = "SELECT document, hash, scanned_ms FROM vuln_manifests WHERE asset_id = ?1",
    [S_MANIFEST_ASSETS] = "SELECT asset_id FROM vuln_manifests ORDER BY asset_id",
    /* the stale column (migration 4) is no longer used: findings_diff finds the gone */
    [S_FINDING_OPEN]  = "SELECT " FINDING_COLS " FROM vuln_findings WHERE asset_id = ?1"
                        " AND fixed_ms = 0",
    [S_FINDING_PUT]   = "INSERT INTO vuln_findings(asset_id, advisory_id, package, aliases,"
                        " installed_version, fixed_version, severity, score10, first_seen_ms,"
                        " last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
                        " ON CONFLICT(asset_id, advisory_id, package) DO UPDATE SET"
                        " aliases = excluded.aliases, installed_version = excluded.installed_version,"
                        " fixed_version = excluded.fixed_version, severity = excluded.severity,"
                        " score10 = excluded.score10, last_seen_ms = excluded.last_seen_ms,"
                        " fixed_ms = 0, stale = 0",
    [S_FINDING_CLOSE] = "UPDATE vuln_findings SET fixed_ms = ?4"
                        " WHERE asset_id = ?1 AND advisory_id = ?2 AND package = ?3",
    [S_FINDING_SEEN]  = "UPDATE vuln_findings SET last_seen_ms = ?2"
                        " WHERE asset_id = ?1 AND fixed_ms = 0 AND last_seen_ms <> ?2",
    [S_FINDING_BY_ASSET] = "SELECT " FINDING_COLS " FROM vuln_findings WHERE asset_id = ?1"
                        FINDING_FILTER " ORDER BY score10 DESC, advisory_id, package LIMIT ?6",
    [S_FINDING_BY_VULN] = "SELECT " FINDING_COLS " FROM vuln_findings WHERE (advisory_id = ?2"
                        " OR advisory_id IN (SELECT advisory_id FROM advisory_aliases WHERE alias = ?2))"
                        FINDING_FILTER " ORDER BY asset_id, score10 DESC, advisory_id, package LIMIT ?6",
    [S_FINDING_SUMMARY] = "SELECT severity, sum(fixed_ms = 0), sum(fixed_ms <> 0),"
                        " count(DISTINCT CASE WHEN fixed_ms = 0 THEN asset_id END)"
                        " FROM vuln_findings GROUP BY severity ORDER BY severity",
    [S_FINDING_AFFECTED] = "SELECT count(DISTINCT asset_id) FROM vuln_findings WHERE fixed_ms = 0",
    [S_MANIFEST_COUNT] = "SELECT count(*) FROM vuln_manifests",
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

/* bind_id_or_null binds a reference to another row; 0 means none (SQL NULL). */
static int
bind_id_or_null(sqlite3_stmt *q, int i, int64_t id)
{
    return id != 0 ? sqlite3_bind_int64(q, i, id) : sqlite3_bind_null(q, i);
}

/* text_fit returns how many bytes of s fit a field of max bytes with its NUL, cut
 * before a UTF-8 continuation byte so the kept prefix stays valid text. */
static int
text_fit(const char *s, size_t max)
{
    size_t len = strnlen(s, max);

    if (len < max)
        return (int)len;
    len = max - 1;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return (int)len;
}

/* bind_text_fit binds s cut to a field of max bytes (see text_fit); NULL binds ''. */
static int
bind_text_fit(sqlite3_stmt *q, int i, const char *s, size_t max)
{
    if (s == NULL)
        s = "";
    return sqlite3_bind_text(q, i, s, text_fit(s, max), SQLITE_STATIC);
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
    col_text(q, 8, a->fqdn, sizeof(a->fqdn));
    col_text(q, 9, a->os_name, sizeof(a->os_name));
    col_text(q, 10, a->os_version, sizeof(a->os_version));
    col_text(q, 11, a->arch, sizeof(a->arch));
    col_text(q, 12, a->machine_id, sizeof(a->machine_id));
    col_text(q, 13, a->agent_version, sizeof(a->agent_version));
    col_text(q, 14, a->last_address, sizeof(a->last_address));
    a->profile_id = sqlite3_column_int64(q, 15);     /* NULL reads as 0 */
    a->key_id = sqlite3_column_int64(q, 16);
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
    j->dispatched_ms = sqlite3_column_int64(q, 9);
    j->started_ms = sqlite3_column_int64(q, 10);
    j->finished_ms = sqlite3_column_int64(q, 11);
    j->lease_deadline_ms = sqlite3_column_int64(q, 12);
    j->attempts = sqlite3_column_int(q, 13);
    col_text(q, 14, j->cpu_applied, sizeof(j->cpu_applied));
    col_text(q, 15, j->reason, sizeof(j->reason));
}

static void
key_read(sqlite3_stmt *q, void *record)
{
    struct actkey *k = record;

    k->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, k->token, sizeof(k->token));
    col_text(q, 2, k->name, sizeof(k->name));
    k->modules = (unsigned)sqlite3_column_int64(q, 3);
    k->max_uses = sqlite3_column_int(q, 4);
    k->uses = sqlite3_column_int(q, 5);
    k->expires_ms = sqlite3_column_int64(q, 6);
    k->revoked = sqlite3_column_int(q, 7) != 0;
    k->created_ms = sqlite3_column_int64(q, 8);
}

static void
tag_read(sqlite3_stmt *q, void *record)
{
    struct tag *t = record;

    t->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, t->name, sizeof(t->name));
    t->created_ms = sqlite3_column_int64(q, 2);
}

static void
agent_read(sqlite3_stmt *q, void *record)
{
    struct agent *a = record;

    col_text(q, 0, a->uuid, sizeof(a->uuid));
    a->asset_id = sqlite3_column_int64(q, 1);
    col_text(q, 2, a->secret_hash, sizeof(a->secret_hash));
    a->enrolled_ms = sqlite3_column_int64(q, 3);
}

static void
profile_read(sqlite3_stmt *q, void *record)
{
    struct profile *p = record;

    p->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, p->name, sizeof(p->name));
    col_text(q, 2, p->os_family, sizeof(p->os_family));
    p->is_default = sqlite3_column_int(q, 3) != 0;
    p->cpu_limit = sqlite3_column_int(q, 4);
    p->cpu_throttle = sqlite3_column_int(q, 5);
    p->checkin_hold_s = sqlite3_column_int(q, 6);
    p->lease_s = sqlite3_column_int(q, 7);
    p->max_concurrent = sqlite3_column_int(q, 8);
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
    if (scan->needs != MOD_NONE && (scan->needs & mods) == 0) {
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

/* --- the job's life: store_apply ---------------------------------------------------- */

/* job_of_asset reads a job for the agent of asset_id: a job of another asset is
 * ODS_E_NOTFOUND, exactly like a missing one. */
static int
job_of_asset(struct conn *c, int64_t asset_id, int64_t job_id, struct job *j)
{
    sqlite3_stmt *q = stmt(c, S_JOB_GET);
    int rc;

    if (q == NULL || sqlite3_bind_int64(q, 1, job_id) != SQLITE_OK)
        return ODS_E_STORE;
    if ((rc = read_one(q, job_read, j, sizeof(*j))) != ODS_E_OK)
        return rc;
    return j->asset_id == asset_id ? ODS_E_OK : ODS_E_NOTFOUND;
}

/* op_checkin records a check-in; a NULL agent_version or remote keeps the old value. */
static int
op_checkin(struct conn *c, struct store_op *op)
{
    const struct checkin *ci = &op->u.checkin;
    sqlite3_stmt *q = stmt(c, S_ASSET_CHECKIN);
    int rc = SQLITE_OK;

    if (q == NULL)
        return ODS_E_STORE;
    rc = sqlite3_bind_int64(q, 1, ci->asset_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, ci->now_ms);
    if (rc == SQLITE_OK)
        rc = ci->agent_version != NULL ?
            bind_text_fit(q, 3, ci->agent_version, sizeof(((struct asset *)0)->agent_version)) :
            sqlite3_bind_null(q, 3);
    if (rc == SQLITE_OK)
        rc = ci->remote != NULL ? bind_text_fit(q, 4, ci->remote, STORE_ADDR_MAX) :
            sqlite3_bind_null(q, 4);
    if (rc != SQLITE_OK || run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    op->result = sqlite3_changes(c->db) == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
    return ODS_E_OK;
}

/* claim_pick chooses the QUEUED jobs to hand out: oldest first, up to max_jobs, no
 * type in busy_types and never two of one type. Ids go to ids[], count to *n. */
static int
claim_pick(struct conn *c, const struct claim *cl, int64_t *ids, size_t *n)
{
    sqlite3_stmt *q = stmt(c, S_JOB_QUEUED);
    unsigned taken = cl->busy_types;
    size_t max = cl->max_jobs < STORE_CLAIM_MAX ? cl->max_jobs : STORE_CLAIM_MAX;
    int rc = SQLITE_DONE;

    *n = 0;
    if (q == NULL || sqlite3_bind_int64(q, 1, cl->asset_id) != SQLITE_OK)
        return ODS_E_STORE;
    while (*n < max && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int type = sqlite3_column_int(q, 1);
        if (type < 0 || type >= SCAN_TYPE_COUNT || (taken & (1u << type)))
            continue;
        taken |= 1u << type;
        ids[(*n)++] = sqlite3_column_int64(q, 0);
    }
    sqlite3_reset(q);
    return *n == max || rc == SQLITE_DONE ? ODS_E_OK : ODS_E_STORE;
}

static int
op_claim(struct conn *c, struct store_op *op)
{
    struct claim *cl = &op->u.claim;
    sqlite3_stmt *dispatch = stmt(c, S_JOB_DISPATCH), *get = stmt(c, S_JOB_GET);
    int64_t ids[STORE_CLAIM_MAX];
    unsigned mods = 0;
    size_t n = 0;
    int rc;

    cl->n = 0;
    if (dispatch == NULL || get == NULL)
        return ODS_E_STORE;
    rc = asset_modules(stmt(c, S_ASSET_MODULES), cl->asset_id, &mods);
    if (rc == ODS_E_NOTFOUND) {
        op->result = ODS_E_NOTFOUND;
        return ODS_E_OK;
    }
    if (rc != ODS_E_OK || (rc = claim_pick(c, cl, ids, &n)) != ODS_E_OK)
        return ODS_E_STORE;
    for (size_t i = 0; i < n; i++) {
        if (sqlite3_bind_int64(dispatch, 1, ids[i]) != SQLITE_OK ||
            sqlite3_bind_int64(dispatch, 2, cl->now_ms) != SQLITE_OK ||
            sqlite3_bind_int64(dispatch, 3, cl->now_ms + cl->lease_ms) != SQLITE_OK ||
            run(dispatch) != SQLITE_DONE ||
            sqlite3_bind_int64(get, 1, ids[i]) != SQLITE_OK ||
            read_one(get, job_read, &cl->jobs[i], sizeof(cl->jobs[i])) != ODS_E_OK)
            return ODS_E_STORE;
    }
    cl->n = n;
    op->result = ODS_E_OK;
    return ODS_E_OK;
}

/* op_start: DISPATCHED, or RUNNING again, -> RUNNING with a renewed lease. */
static int
op_start(struct conn *c, struct store_op *op)
{
    struct job_update *u = &op->u.update;
    sqlite3_stmt *q = stmt(c, S_JOB_START);
    struct job j;
    int rc = job_of_asset(c, u->asset_id, u->job_id, &j);

    if (rc == ODS_E_STORE || q == NULL)
        return ODS_E_STORE;
    op->result = rc;
    if (rc != ODS_E_OK)
        return ODS_E_OK;
    u->scan_type = j.scan_type;
    if (j.state != JOB_DISPATCHED && j.state != JOB_RUNNING) {
        op->result = ODS_E_BUSY;
        return ODS_E_OK;
    }
    if (sqlite3_bind_int64(q, 1, u->job_id) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, u->now_ms) != SQLITE_OK ||
        sqlite3_bind_int64(q, 3, u->now_ms + u->lease_ms) != SQLITE_OK ||
        bind_text_fit(q, 4, u->cpu_applied, sizeof(j.cpu_applied)) != SQLITE_OK ||
        run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    return ODS_E_OK;
}

/* op_heartbeat renews the lease of a DISPATCHED or RUNNING job. */
static int
op_heartbeat(struct conn *c, struct store_op *op)
{
    struct job_update *u = &op->u.update;
    sqlite3_stmt *q = stmt(c, S_JOB_RENEW);
    struct job j;
    int rc = job_of_asset(c, u->asset_id, u->job_id, &j);

    if (rc == ODS_E_STORE || q == NULL)
        return ODS_E_STORE;
    op->result = rc;
    if (rc != ODS_E_OK)
        return ODS_E_OK;
    u->scan_type = j.scan_type;
    if (j.state != JOB_DISPATCHED && j.state != JOB_RUNNING) {
        op->result = ODS_E_BUSY;
        return ODS_E_OK;
    }
    if (sqlite3_bind_int64(q, 1, u->job_id) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, u->now_ms + u->lease_ms) != SQLITE_OK ||
        run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    return ODS_E_OK;
}

/* finish_document stores a COMPLETED job's document; an Inventory_Scan's also becomes
 * the asset's latest inventory and a line of its inventory history. */
static int
finish_document(struct conn *c, const struct job *j, const struct job_update *u)
{
    sqlite3_stmt *res = stmt(c, S_RESULT_ADD), *inv = stmt(c, S_INVENTORY_SET),
        *hist = stmt(c, S_HISTORY_ADD);
    int len = (int)u->result_len;

    if (res == NULL || inv == NULL || hist == NULL)
        return ODS_E_STORE;
    if (sqlite3_bind_int64(res, 1, j->id) != SQLITE_OK ||
        sqlite3_bind_int64(res, 2, j->asset_id) != SQLITE_OK ||
        sqlite3_bind_int(res, 3, j->scan_type) != SQLITE_OK ||
        sqlite3_bind_text(res, 4, u->result_json, len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(res, 5, u->now_ms) != SQLITE_OK ||
        run(res) != SQLITE_DONE)
        return ODS_E_STORE;
    if (j->scan_type != SCAN_INVENTORY)
        return ODS_E_OK;
    if (sqlite3_bind_int64(inv, 1, j->asset_id) != SQLITE_OK ||
        sqlite3_bind_int64(inv, 2, j->id) != SQLITE_OK ||
        sqlite3_bind_int64(inv, 3, u->now_ms) != SQLITE_OK ||
        sqlite3_bind_text(inv, 4, u->result_json, len, SQLITE_STATIC) != SQLITE_OK ||
        run(inv) != SQLITE_DONE ||
        sqlite3_bind_int64(hist, 1, j->asset_id) != SQLITE_OK ||
        sqlite3_bind_int64(hist, 2, j->id) != SQLITE_OK ||
        sqlite3_bind_int64(hist, 3, u->now_ms) != SQLITE_OK ||
        run(hist) != SQLITE_DONE)
        return ODS_E_STORE;
    return ODS_E_OK;
}

/* manifest_known: ODS_E_OK when the asset's stored manifest has this hash, else
 * ODS_E_NOTFOUND (or ODS_E_STORE). */
static int
manifest_known(struct conn *c, int64_t asset_id, const char *hash)
{
    sqlite3_stmt *q = stmt(c, S_MANIFEST_HASH);
    int rc = ODS_E_STORE, src;

    if (q == NULL || sqlite3_bind_int64(q, 1, asset_id) != SQLITE_OK)
        return ODS_E_STORE;
    src = sqlite3_step(q);
    if (src == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        rc = t != NULL && strcmp((const char *)t, hash) == 0 ? ODS_E_OK : ODS_E_NOTFOUND;
    } else if (src == SQLITE_DONE) {
        rc = ODS_E_NOTFOUND;
    }
    sqlite3_reset(q);
    return rc;
}

/* manifest_record keeps a full manifest as the asset's, or notes a hash-only scan. */
static int
manifest_record(struct conn *c, const struct job *j, const struct job_update *u)
{
    sqlite3_stmt *q;

    if (u->manifest_hash_only) {
        q = stmt(c, S_MANIFEST_SEEN);
        if (q == NULL || sqlite3_bind_int64(q, 1, j->asset_id) != SQLITE_OK ||
            sqlite3_bind_int64(q, 2, u->now_ms) != SQLITE_OK || run(q) != SQLITE_DONE)
            return ODS_E_STORE;
        return ODS_E_OK;
    }
    q = stmt(c, S_MANIFEST_SET);
    if (q == NULL || u->result_json == NULL ||
        sqlite3_bind_int64(q, 1, j->asset_id) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, j->id) != SQLITE_OK ||
        bind_text(q, 3, u->manifest_hash) != SQLITE_OK ||
        sqlite3_bind_text(q, 4, u->result_json, (int)u->result_len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(q, 5, u->now_ms) != SQLITE_OK || run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    return ODS_E_OK;
}

/* op_finish: QUEUED/DISPATCHED/RUNNING -> COMPLETED or FAILED. A job already finished
 * is a duplicate upload and changes nothing. A final_state other than COMPLETED or
 * FAILED is ODS_E_INVAL, a document above RESULT_DOC_MAX ODS_E_TOOBIG. */
static int
op_finish(struct conn *c, struct store_op *op)
{
    struct job_update *u = &op->u.update;
    sqlite3_stmt *q = stmt(c, S_JOB_FINISH);
    bool completed = u->final_state == JOB_COMPLETED;
    struct job j;
    int rc;

    u->duplicate = false;
    if (q == NULL)
        return ODS_E_STORE;
    if ((rc = job_of_asset(c, u->asset_id, u->job_id, &j)) == ODS_E_STORE)
        return ODS_E_STORE;
    op->result = rc;
    if (rc != ODS_E_OK)
        return ODS_E_OK;
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
    bool manifest = completed && j.scan_type == SCAN_VULNERABILITY && u->manifest_hash != NULL;
    if (manifest && u->manifest_hash_only &&
        (rc = manifest_known(c, j.asset_id, u->manifest_hash)) != ODS_E_OK) {
        if (rc == ODS_E_STORE)
            return rc;
        op->result = ODS_E_CONFLICT;
        return ODS_E_OK;
    }
    if (sqlite3_bind_int64(q, 1, u->job_id) != SQLITE_OK ||
        sqlite3_bind_int(q, 2, u->final_state) != SQLITE_OK ||
        sqlite3_bind_int64(q, 3, u->now_ms) != SQLITE_OK ||
        bind_text_fit(q, 4, completed ? "" : u->reason, STORE_TEXT_MAX) != SQLITE_OK ||
        run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    if (completed && u->result_json != NULL && (rc = finish_document(c, &j, u)) != ODS_E_OK)
        return rc;
    return manifest ? manifest_record(c, &j, u) : ODS_E_OK;
}

/* apply_one runs one operation inside the batch's transaction. Its outcome goes to
 * op->result; the return value is not 0 only when the batch must roll back. */
static int
apply_one(struct conn *c, const struct launch_stmts *ls, struct store_op *op)
{
    int rc;

    op->result = ODS_E_OK;
    switch (op->kind) {
    case STORE_OP_LAUNCH:
        rc = launch_one(ls, &op->u.launch);
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

/* batch_step runs item i of a batch: a launch or an operation. */
typedef int (*batch_step)(struct conn *c, const struct launch_stmts *ls, void *items, size_t i);

static int
launch_step(struct conn *c, const struct launch_stmts *ls, void *items, size_t i)
{
    (void)c;
    return launch_one(ls, &((struct launch *)items)[i]);
}

static int
op_step(struct conn *c, const struct launch_stmts *ls, void *items, size_t i)
{
    return apply_one(c, ls, &((struct store_op *)items)[i]);
}

/* batch_run runs n items in ONE transaction committed durably (synchronous=FULL)
 * before it returns: the group commit behind store_launch_batch and store_apply.
 * Returns 0, or ODS_E_STORE when the transaction rolled back. */
static int
batch_run(store_t *st, batch_step step, void *items, size_t n)
{
    struct conn *c = conn_acquire(st);
    struct launch_stmts ls;
    int rc;

    if ((rc = launch_stmts_get(c, &ls)) != ODS_E_OK || (rc = tx_begin(c)) != ODS_E_OK)
        goto out;
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
        rc = step(c, &ls, items, i);
    rc = tx_finish(c, rc);
out:
    conn_release(c);
    return rc == ODS_E_OK ? ODS_E_OK : ODS_E_STORE;
}

static int
sqlite_launch_batch(store_t *st, struct launch *items, size_t n)
{
    return batch_run(st, launch_step, items, n);
}

static int
sqlite_apply(store_t *st, struct store_op *ops, size_t n)
{
    return batch_run(st, op_step, ops, n);
}

/* --- the job's life: sweep and documents --------------------------------------------- */

/* sweep_tx: expire first, so a job requeued now still gets a chance to be handed out. */
static int
sweep_tx(struct conn *c, int64_t now, int64_t expire_ms, size_t *requeued, size_t *expired,
    int64_t *assets, size_t cap, size_t *n_assets)
{
    sqlite3_stmt *exp = stmt(c, S_SWEEP_EXPIRE), *list = stmt(c, S_SWEEP_ASSETS),
        *requeue = stmt(c, S_SWEEP_REQUEUE);
    int rc;

    if (exp == NULL || list == NULL || requeue == NULL)
        return ODS_E_STORE;
    if (sqlite3_bind_int64(exp, 1, now) != SQLITE_OK ||
        sqlite3_bind_int64(exp, 2, now - expire_ms) != SQLITE_OK || run(exp) != SQLITE_DONE)
        return ODS_E_STORE;
    *expired = (size_t)sqlite3_changes(c->db);
    if (sqlite3_bind_int64(list, 1, now) != SQLITE_OK)
        return ODS_E_STORE;
    while ((rc = sqlite3_step(list)) == SQLITE_ROW && *n_assets < cap)
        assets[(*n_assets)++] = sqlite3_column_int64(list, 0);
    sqlite3_reset(list);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return ODS_E_STORE;
    if (sqlite3_bind_int64(requeue, 1, now) != SQLITE_OK || run(requeue) != SQLITE_DONE)
        return ODS_E_STORE;
    *requeued = (size_t)sqlite3_changes(c->db);
    return ODS_E_OK;
}

static int
sqlite_jobs_sweep(store_t *st, int64_t now, int64_t expire_ms, size_t *requeued,
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
    return rc;
}

/* doc_copy copies the text of column i into a malloc'd NUL-terminated string. */
static int
doc_copy(sqlite3_stmt *q, int i, char **json, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    size_t n = (size_t)sqlite3_column_bytes(q, i);
    char *copy;

    if (t == NULL && sqlite3_errcode(sqlite3_db_handle(q)) == SQLITE_NOMEM)
        return ODS_E_NOMEM;
    if ((copy = malloc(n + 1)) == NULL)
        return ODS_E_NOMEM;
    if (n > 0)
        memcpy(copy, t, n);
    copy[n] = '\0';
    *json = copy;
    if (len != NULL)
        *len = n;
    return ODS_E_OK;
}

static int
sqlite_result_get(store_t *st, int64_t job_id, char **json, size_t *len)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_RESULT_GET);
    int rc = ODS_E_STORE;

    *json = NULL;
    if (q != NULL && sqlite3_bind_int64(q, 1, job_id) == SQLITE_OK) {
        int src = sqlite3_step(q);
        if (src == SQLITE_ROW)
            rc = doc_copy(q, 0, json, len);
        else if (src == SQLITE_DONE)
            rc = ODS_E_NOTFOUND;
        sqlite3_reset(q);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_inventory_get(store_t *st, int64_t asset_id, char **json, size_t *len,
    int64_t *job_id, int64_t *collected_ms)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_INVENTORY_GET);
    int rc = ODS_E_STORE;

    *json = NULL;
    if (q != NULL && sqlite3_bind_int64(q, 1, asset_id) == SQLITE_OK) {
        int src = sqlite3_step(q);
        if (src == SQLITE_ROW && (rc = doc_copy(q, 0, json, len)) == ODS_E_OK) {
            if (job_id != NULL)
                *job_id = sqlite3_column_int64(q, 1);
            if (collected_ms != NULL)
                *collected_ms = sqlite3_column_int64(q, 2);
        } else if (src == SQLITE_DONE) {
            rc = ODS_E_NOTFOUND;
        }
        sqlite3_reset(q);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_inventory_history(store_t *st, int64_t asset_id, int64_t *at, size_t cap, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_HISTORY_LIST);
    int rc = ODS_E_STORE, src;

    *n = 0;
    if (q == NULL || sqlite3_bind_int64(q, 1, asset_id) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, cap > INT64_MAX ? INT64_MAX : (int64_t)cap) != SQLITE_OK)
        goto out;
    while ((src = sqlite3_step(q)) == SQLITE_ROW && *n < cap)
        at[(*n)++] = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    rc = src == SQLITE_ROW || src == SQLITE_DONE ? ODS_E_OK : ODS_E_STORE;
out:
    conn_release(c);
    return rc;
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

/* list_all runs a parameterless list statement into *out (caller frees). */
static int
list_all(store_t *st, enum stmt_id id, row_reader read, size_t size, void **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, id);
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q != NULL)
        rc = read_all(q, read, size, out, n);
    conn_release(c);
    return rc;
}

static int
sqlite_user_list(store_t *st, struct user **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_all(st, S_USER_LIST, user_read, sizeof(**out), &rows, n);

    *out = rows;
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
    const char *const texts[] = {
        a->fqdn, a->os_name, a->os_version, a->arch, a->machine_id, a->agent_version,
        a->last_address,
    };
    for (int i = 0; rc == SQLITE_OK && i < (int)(sizeof(texts) / sizeof(texts[0])); i++)
        rc = bind_text(q, 9 + i, texts[i]);
    if (rc == SQLITE_OK)
        rc = bind_id_or_null(q, 16, a->profile_id);
    if (rc == SQLITE_OK)
        rc = bind_id_or_null(q, 17, a->key_id);
    return rc;
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
sqlite_asset_add(store_t *st, const struct asset *a)
{
    if (a->id <= 0 || !asset_fits(a))
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
    void *rows = NULL;
    int rc = list_all(st, S_ASSET_LIST, asset_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

/* --- activation keys and enrollment ------------------------------------------------ */

static int
sqlite_key_add(store_t *st, struct actkey *k)
{
    if (!fits(k->token, sizeof(k->token)) || k->token[0] == '\0' ||
        !fits(k->name, sizeof(k->name)) || k->max_uses < 0 || k->expires_ms < 0)
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_KEY_ADD);
    int64_t now = now_ms();
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, k->token) == SQLITE_OK &&
        bind_text(q, 2, k->name) == SQLITE_OK &&
        sqlite3_bind_int64(q, 3, k->modules) == SQLITE_OK &&
        sqlite3_bind_int(q, 4, k->max_uses) == SQLITE_OK &&
        sqlite3_bind_int64(q, 5, k->expires_ms) == SQLITE_OK &&
        sqlite3_bind_int(q, 6, k->revoked) == SQLITE_OK &&
        sqlite3_bind_int64(q, 7, now) == SQLITE_OK &&
        (rc = insert_code(run(q))) == ODS_E_OK) {
        k->id = sqlite3_last_insert_rowid(c->db);
        k->uses = 0;
        k->created_ms = now;
    }
    conn_release(c);
    return rc;
}

static int
sqlite_key_list(store_t *st, struct actkey **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_all(st, S_KEY_LIST, key_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

/* sqlite_key_revoke revokes every key whose token, or non-empty name, matches. */
static int
sqlite_key_revoke(store_t *st, const char *token_or_name)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_KEY_REVOKE);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, token_or_name) == SQLITE_OK && run(q) == SQLITE_DONE)
        rc = sqlite3_changes(c->db) == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
    conn_release(c);
    return rc;
}

/* enroll_asset_id picks the new asset's id: one above the largest, and never below
 * FIRST_ENROLLED_ID; when the largest is INT64_MAX, the lowest free id from there. */
static int
enroll_asset_id(struct conn *c, int64_t *id)
{
    sqlite3_stmt *max = stmt(c, S_ASSET_MAX_ID), *fre = stmt(c, S_ASSET_FREE_ID);
    int64_t top = 0;

    if (max == NULL || fre == NULL || sqlite3_step(max) != SQLITE_ROW) {
        if (max != NULL)
            sqlite3_reset(max);
        return ODS_E_STORE;
    }
    top = sqlite3_column_int64(max, 0);
    sqlite3_reset(max);
    if (top < INT64_MAX) {
        *id = top + 1 > FIRST_ENROLLED_ID ? top + 1 : FIRST_ENROLLED_ID;
        return ODS_E_OK;
    }
    if (sqlite3_bind_int64(fre, 1, FIRST_ENROLLED_ID) != SQLITE_OK ||
        sqlite3_step(fre) != SQLITE_ROW || sqlite3_column_type(fre, 0) != SQLITE_INTEGER) {
        sqlite3_reset(fre);
        return ODS_E_STORE;
    }
    *id = sqlite3_column_int64(fre, 0);
    sqlite3_reset(fre);
    return ODS_E_OK;
}

static int
enroll_tx(struct conn *c, const struct enrollment *e, struct asset *a, const char **why)
{
    sqlite3_stmt *kget = stmt(c, S_KEY_GET), *kuse = stmt(c, S_KEY_USE),
        *aadd = stmt(c, S_ASSET_ADD), *agadd = stmt(c, S_AGENT_ADD),
        *etags = stmt(c, S_ENROLL_TAGS);
    struct actkey k;
    int rc;

    if (kget == NULL || kuse == NULL || aadd == NULL || agadd == NULL ||
        bind_text(kget, 1, e->key_token) != SQLITE_OK)
        return ODS_E_STORE;
    if ((rc = read_one(kget, key_read, &k, sizeof(k))) == ODS_E_NOTFOUND)
        *why = "activation key unknown";
    if (rc != ODS_E_OK || (rc = store_key_check(&k, e->now_ms, why)) != ODS_E_OK)
        return rc;
    if ((rc = store_enrollment_asset(e, &k, a)) != ODS_E_OK ||
        (rc = enroll_asset_id(c, &a->id)) != ODS_E_OK)
        return rc;
    if (sqlite3_bind_int64(kuse, 1, k.id) != SQLITE_OK || run(kuse) != SQLITE_DONE ||
        asset_bind(aadd, a, e->now_ms) != SQLITE_OK)
        return ODS_E_STORE;
    if ((rc = insert_code(run(aadd))) != ODS_E_OK)
        return rc;
    if (bind_text(agadd, 1, e->uuid) != SQLITE_OK ||
        sqlite3_bind_int64(agadd, 2, a->id) != SQLITE_OK ||
        bind_text(agadd, 3, e->secret_hash) != SQLITE_OK ||
        sqlite3_bind_int64(agadd, 4, e->now_ms) != SQLITE_OK)
        return ODS_E_STORE;
    if ((rc = insert_code(run(agadd))) != ODS_E_OK)
        return rc;
    if (etags == NULL || sqlite3_bind_int64(etags, 1, a->id) != SQLITE_OK ||
        sqlite3_bind_int64(etags, 2, k.id) != SQLITE_OK || run(etags) != SQLITE_DONE)
        return ODS_E_STORE;
    return ODS_E_OK;
}

static int
sqlite_enroll(store_t *st, const struct enrollment *e, struct asset *asset, const char **why)
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
    return rc;
}

static int
sqlite_agent_get(store_t *st, const char *uuid, struct agent *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_AGENT_GET);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, uuid) == SQLITE_OK)
        rc = read_one(q, agent_read, out, sizeof(*out));
    conn_release(c);
    return rc;
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
sqlite_profile_add(store_t *st, struct profile *p)
{
    if (!profile_valid(p))
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_PROFILE_ADD);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, p->name) == SQLITE_OK &&
        bind_text(q, 2, p->os_family) == SQLITE_OK &&
        sqlite3_bind_int(q, 3, p->is_default) == SQLITE_OK &&
        sqlite3_bind_int(q, 4, p->cpu_limit) == SQLITE_OK &&
        sqlite3_bind_int(q, 5, p->cpu_throttle) == SQLITE_OK &&
        sqlite3_bind_int(q, 6, p->checkin_hold_s) == SQLITE_OK &&
        sqlite3_bind_int(q, 7, p->lease_s) == SQLITE_OK &&
        sqlite3_bind_int(q, 8, p->max_concurrent) == SQLITE_OK &&
        (rc = insert_code(run(q))) == ODS_E_OK)
        p->id = sqlite3_last_insert_rowid(c->db);
    conn_release(c);
    return rc;
}

static int
sqlite_profile_list(store_t *st, struct profile **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_all(st, S_PROFILE_LIST, profile_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

static int
sqlite_profile_get(store_t *st, const char *name, struct profile *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_PROFILE_GET);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, name) == SQLITE_OK)
        rc = read_one(q, profile_read, out, sizeof(*out));
    conn_release(c);
    return rc;
}

static int
profile_assign_tx(struct conn *c, int64_t asset_id, const char *name)
{
    sqlite3_stmt *get = stmt(c, S_PROFILE_GET), *set = stmt(c, S_ASSET_SET_PROFILE);
    struct profile p;
    int rc;

    if (get == NULL || set == NULL || bind_text(get, 1, name) != SQLITE_OK)
        return ODS_E_STORE;
    if ((rc = read_one(get, profile_read, &p, sizeof(p))) != ODS_E_OK)
        return rc;
    if (sqlite3_bind_int64(set, 1, asset_id) != SQLITE_OK ||
        sqlite3_bind_int64(set, 2, p.id) != SQLITE_OK ||
        sqlite3_bind_int64(set, 3, now_ms()) != SQLITE_OK || run(set) != SQLITE_DONE)
        return ODS_E_STORE;
    return sqlite3_changes(c->db) == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
}

static int
sqlite_profile_assign(store_t *st, int64_t asset_id, const char *profile_name)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = profile_assign_tx(c, asset_id, profile_name);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_profile_for_asset(store_t *st, int64_t asset_id, struct profile *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_PROFILE_FOR_ASSET);
    int rc = ODS_E_STORE;

    if (q != NULL && sqlite3_bind_int64(q, 1, asset_id) == SQLITE_OK)
        rc = read_one(q, profile_read, out, sizeof(*out));
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

/* --- activation keys by id, tags, user scopes and limits --------------------------- */

/* read_by_id reads the first row of a statement bound to one id (see read_one). */
static int
read_by_id(store_t *st, enum stmt_id id, int64_t key, row_reader read, void *out, size_t size)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, id);
    int rc = ODS_E_STORE;

    if (q != NULL && sqlite3_bind_int64(q, 1, key) == SQLITE_OK)
        rc = read_one(q, read, out, size);
    conn_release(c);
    return rc;
}

/* list_by_id reads every row of a statement bound to one id. Caller frees *out. */
static int
list_by_id(store_t *st, enum stmt_id id, int64_t key, row_reader read, size_t size,
    void **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, id);
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q != NULL && sqlite3_bind_int64(q, 1, key) == SQLITE_OK)
        rc = read_all(q, read, size, out, n);
    conn_release(c);
    return rc;
}

/* exists_id tells whether statement id (a read by one id) finds a row. */
static int
exists_id(struct conn *c, enum stmt_id id, int64_t key)
{
    sqlite3_stmt *q = stmt(c, id);
    int rc;

    if (q == NULL || sqlite3_bind_int64(q, 1, key) != SQLITE_OK)
        return ODS_E_STORE;
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? ODS_E_OK : rc == SQLITE_DONE ? ODS_E_NOTFOUND : ODS_E_STORE;
}

/* run_ids binds (a, b) to statement id and runs it; *changed (may be NULL) gets the
 * number of rows touched. */
static int
run_ids(struct conn *c, enum stmt_id id, int64_t a, int64_t b, int nbind, int *changed)
{
    sqlite3_stmt *q = stmt(c, id);

    if (q == NULL || sqlite3_bind_int64(q, 1, a) != SQLITE_OK ||
        (nbind > 1 && sqlite3_bind_int64(q, 2, b) != SQLITE_OK) || run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    if (changed != NULL)
        *changed = sqlite3_changes(c->db);
    return ODS_E_OK;
}

static int
sqlite_key_get_id(store_t *st, int64_t id, struct actkey *out)
{
    return read_by_id(st, S_KEY_GET_ID, id, key_read, out, sizeof(*out));
}

static int
sqlite_key_update(store_t *st, const struct actkey *k)
{
    if (!fits(k->name, sizeof(k->name)) || k->max_uses < 0 || k->expires_ms < 0)
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_KEY_UPDATE);
    int rc = ODS_E_STORE;

    if (q != NULL && sqlite3_bind_int64(q, 1, k->id) == SQLITE_OK &&
        bind_text(q, 2, k->name) == SQLITE_OK &&
        sqlite3_bind_int64(q, 3, k->modules) == SQLITE_OK &&
        sqlite3_bind_int(q, 4, k->max_uses) == SQLITE_OK &&
        sqlite3_bind_int64(q, 5, k->expires_ms) == SQLITE_OK &&
        sqlite3_bind_int(q, 6, k->revoked) == SQLITE_OK && run(q) == SQLITE_DONE)
        rc = sqlite3_changes(c->db) == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
    conn_release(c);
    return rc;
}

static int
sqlite_key_del(store_t *st, int64_t id)
{
    struct conn *c = conn_acquire(st);
    int changed = 0;
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        if ((rc = run_ids(c, S_KEY_UNLINK, id, 0, 1, NULL)) == ODS_E_OK &&
            (rc = run_ids(c, S_KEY_DEL, id, 0, 1, &changed)) == ODS_E_OK && changed == 0)
            rc = ODS_E_NOTFOUND;
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
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

static int
key_set_tags_tx(struct conn *c, int64_t key_id, const int64_t *ids, size_t n)
{
    int rc;

    if ((rc = exists_id(c, S_KEY_GET_ID, key_id)) != ODS_E_OK ||
        (rc = tags_exist(c, ids, n)) != ODS_E_OK ||
        (rc = run_ids(c, S_KEY_TAGS_CLEAR, key_id, 0, 1, NULL)) != ODS_E_OK)
        return rc;
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
        rc = run_ids(c, S_KEY_TAG_ADD, key_id, ids[i], 2, NULL);
    return rc;
}

static int
sqlite_key_set_tags(store_t *st, int64_t key_id, const int64_t *tag_ids, size_t n)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = key_set_tags_tx(c, key_id, tag_ids, n);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_key_tags(store_t *st, int64_t key_id, struct tag **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_by_id(st, S_KEY_TAGS, key_id, tag_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

static int
sqlite_tag_add(store_t *st, struct tag *t)
{
    if (!fits(t->name, sizeof(t->name)) || t->name[0] == '\0')
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_TAG_ADD);
    int64_t now = now_ms();
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, t->name) == SQLITE_OK &&
        sqlite3_bind_int64(q, 2, now) == SQLITE_OK &&
        (rc = insert_code(run(q))) == ODS_E_OK) {
        t->id = sqlite3_last_insert_rowid(c->db);
        t->created_ms = now;
    }
    conn_release(c);
    return rc;
}

static int
sqlite_tag_get(store_t *st, const char *name, struct tag *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_TAG_GET);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, name) == SQLITE_OK)
        rc = read_one(q, tag_read, out, sizeof(*out));
    conn_release(c);
    return rc;
}

static int
sqlite_tag_get_id(store_t *st, int64_t id, struct tag *out)
{
    return read_by_id(st, S_TAG_GET_ID, id, tag_read, out, sizeof(*out));
}

static int
sqlite_tag_list(store_t *st, const char *name_contains, struct tag **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_TAG_LIST);
    void *rows = NULL;
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q != NULL && (name_contains != NULL ? bind_text(q, 1, name_contains) :
            sqlite3_bind_null(q, 1)) == SQLITE_OK &&
        (rc = read_all(q, tag_read, sizeof(**out), &rows, n)) == ODS_E_OK)
        *out = rows;
    conn_release(c);
    return rc;
}

static int
sqlite_tag_rename(store_t *st, int64_t id, const char *new_name)
{
    if (!fits(new_name, STORE_TAG_MAX) || new_name[0] == '\0')
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_TAG_RENAME);
    int rc = ODS_E_STORE;

    if (q != NULL && sqlite3_bind_int64(q, 1, id) == SQLITE_OK &&
        bind_text(q, 2, new_name) == SQLITE_OK && (rc = insert_code(run(q))) == ODS_E_OK)
        rc = sqlite3_changes(c->db) == 0 ? ODS_E_NOTFOUND : ODS_E_OK;
    conn_release(c);
    return rc;
}

/* tag_del_tx deletes a tag; a user scope that named it changes, so the auth epoch
 * moves then. */
static int
tag_del_tx(struct conn *c, int64_t id)
{
    sqlite3_stmt *q = stmt(c, S_TAG_SCOPED);
    int64_t scoped = 0;
    int changed = 0, rc;

    if (q == NULL || sqlite3_bind_int64(q, 1, id) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
        if (q != NULL)
            sqlite3_reset(q);
        return ODS_E_STORE;
    }
    scoped = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if ((rc = run_ids(c, S_TAG_DEL, id, 0, 1, &changed)) != ODS_E_OK)
        return rc;
    if (changed == 0)
        return ODS_E_NOTFOUND;
    return scoped > 0 ? run_id(c, S_EPOCH_BUMP) : ODS_E_OK;
}

static int
sqlite_tag_del(store_t *st, int64_t id)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = tag_del_tx(c, id);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
}

/* tag_link puts (assign) or takes off a tag, after checking both rows exist. */
static int
tag_link(store_t *st, enum stmt_id id, int64_t tag_id, int64_t asset_id)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        if ((rc = exists_id(c, S_ASSET_MODULES, asset_id)) == ODS_E_OK &&
            (rc = exists_id(c, S_TAG_GET_ID, tag_id)) == ODS_E_OK)
            rc = run_ids(c, id, asset_id, tag_id, 2, NULL);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_tag_assign(store_t *st, int64_t tag_id, int64_t asset_id)
{
    return tag_link(st, S_TAG_ASSIGN, tag_id, asset_id);
}

static int
sqlite_tag_unassign(store_t *st, int64_t tag_id, int64_t asset_id)
{
    return tag_link(st, S_TAG_UNASSIGN, tag_id, asset_id);
}

static int
sqlite_asset_tags(store_t *st, int64_t asset_id, struct tag **out, size_t *n)
{
    void *rows = NULL;
    int rc = list_by_id(st, S_ASSET_TAGS, asset_id, tag_read, sizeof(**out), &rows, n);

    *out = rows;
    return rc;
}

/* user_id_get reads a user's id by name. */
static int
user_id_get(struct conn *c, const char *name, int64_t *id)
{
    sqlite3_stmt *q = stmt(c, S_USER_GET);
    struct user u;
    int rc;

    if (q == NULL || bind_text(q, 1, name) != SQLITE_OK)
        return ODS_E_STORE;
    if ((rc = read_one(q, user_read, &u, sizeof(u))) == ODS_E_OK)
        *id = u.id;
    return rc;
}

static int
set_scope_tx(struct conn *c, const char *user, const int64_t *ids, size_t n)
{
    int64_t uid = 0;
    int rc;

    if ((rc = user_id_get(c, user, &uid)) != ODS_E_OK ||
        (rc = tags_exist(c, ids, n)) != ODS_E_OK ||
        (rc = run_ids(c, S_SCOPE_CLEAR, uid, 0, 1, NULL)) != ODS_E_OK)
        return rc;
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
        rc = run_ids(c, S_SCOPE_ADD, uid, ids[i], 2, NULL);
    return rc == ODS_E_OK ? run_id(c, S_EPOCH_BUMP) : rc;
}

static int
sqlite_user_set_scope(store_t *st, const char *user, const int64_t *tag_ids, size_t n)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = set_scope_tx(c, user, tag_ids, n);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_user_scope(store_t *st, const char *user, struct tag **out, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_SCOPE_LIST);
    void *rows = NULL;
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q != NULL && bind_text(q, 1, user) == SQLITE_OK &&
        (rc = read_all(q, tag_read, sizeof(**out), &rows, n)) == ODS_E_OK)
        *out = rows;
    conn_release(c);
    return rc;
}

static int
set_limits_tx(struct conn *c, const char *user, const struct user_limits *l)
{
    sqlite3_stmt *q = stmt(c, S_LIMITS_SET);
    int64_t uid = 0;
    int rc;

    if ((rc = user_id_get(c, user, &uid)) != ODS_E_OK)
        return rc;
    if (q == NULL || sqlite3_bind_int64(q, 1, uid) != SQLITE_OK ||
        sqlite3_bind_int(q, 2, l->calls) != SQLITE_OK ||
        sqlite3_bind_int(q, 3, l->window_s) != SQLITE_OK ||
        sqlite3_bind_int(q, 4, l->concurrency) != SQLITE_OK || run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    return run_id(c, S_EPOCH_BUMP);
}

static int
sqlite_user_set_limits(store_t *st, const char *user, const struct user_limits *l)
{
    if (l->calls < 0 || l->window_s < 0 || l->concurrency < 0)
        return ODS_E_INVAL;

    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        rc = set_limits_tx(c, user, l);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
}

static void
limits_read(sqlite3_stmt *q, void *record)
{
    struct user_limits *l = record;

    l->calls = sqlite3_column_int(q, 0);
    l->window_s = sqlite3_column_int(q, 1);
    l->concurrency = sqlite3_column_int(q, 2);
}

static int
sqlite_user_limits(store_t *st, const char *user, struct user_limits *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_LIMITS_GET);
    int rc = ODS_E_STORE;

    if (q != NULL && bind_text(q, 1, user) == SQLITE_OK)
        rc = read_one(q, limits_read, out, sizeof(*out));
    conn_release(c);
    return rc;
}

/* --- asset search by QPS filters ---------------------------------------------------- */

static const struct filter_dialect sqlite_dialect = {
    .mark     = '?',
    .position = "instr",
    .in_int   = { "(SELECT value FROM json_each(", "))" },
    .in_text  = { "(SELECT lower(value) FROM json_each(", "))" },
};

/* query_prepare builds q's statement and binds its parameters on connection c.
 * Caller finalizes *out. */
static int
query_prepare(struct conn *c, const struct asset_query *q, enum filter_sql_kind kind,
    sqlite3_stmt **out)
{
    struct filter_sql f;
    sqlite3_stmt *st = NULL;
    int rc = filter_sql_build(&sqlite_dialect, q, kind, &f);

    *out = NULL;
    if (rc != ODS_E_OK)
        goto out;
    rc = ODS_E_STORE;
    if (sqlite3_prepare_v2(c->db, f.sql.data, -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < f.nparams; i++) {
        int brc = f.params[i].is_int ? sqlite3_bind_int64(st, (int)i + 1, f.params[i].i)
            : sqlite3_bind_text(st, (int)i + 1, f.params[i].text, -1, SQLITE_TRANSIENT);
        if (brc != SQLITE_OK)
            goto out;
    }
    *out = st;
    st = NULL;
    rc = ODS_E_OK;
out:
    sqlite3_finalize(st);
    filter_sql_free(&f);
    return rc;
}

static int
sqlite_asset_search(store_t *st, const struct asset_query *q, int64_t **ids, size_t *n,
    bool *more)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *qs = NULL;
    int64_t *list = NULL;
    size_t len = 0, cap = 0;
    int rc, src;

    *ids = NULL;
    *n = 0;
    *more = false;
    if ((rc = query_prepare(c, q, FILTER_SQL_IDS, &qs)) != ODS_E_OK)
        goto out;
    while ((src = sqlite3_step(qs)) == SQLITE_ROW) {
        if (q->limit > 0 && len == q->limit) {
            *more = true;
            continue;
        }
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : LIST_FIRST_CAP;
            int64_t *grown = reallocarray(list, ncap, sizeof(*list));
            if (grown == NULL) {
                rc = ODS_E_NOMEM;
                goto out;
            }
            list = grown;
            cap = ncap;
        }
        list[len++] = sqlite3_column_int64(qs, 0);
    }
    if (src != SQLITE_DONE) {
        rc = ODS_E_STORE;
        goto out;
    }
    *ids = list;
    *n = len;
    list = NULL;
out:
    free(list);
    sqlite3_finalize(qs);
    conn_release(c);
    return rc;
}

static int
sqlite_asset_count(store_t *st, const struct asset_query *q, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *qs = NULL;
    int rc;

    *n = 0;
    if ((rc = query_prepare(c, q, FILTER_SQL_COUNT, &qs)) == ODS_E_OK) {
        if (sqlite3_step(qs) == SQLITE_ROW)
            *n = (size_t)sqlite3_column_int64(qs, 0);
        else
            rc = ODS_E_STORE;
    }
    sqlite3_finalize(qs);
    conn_release(c);
    return rc;
}

static int
sqlite_asset_set_modules(store_t *st, const int64_t *ids, size_t n, unsigned on,
    unsigned off, const char **why)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *get = stmt(c, S_ASSET_MODULES), *set = stmt(c, S_ASSET_SET_MODULES);
    int64_t now = now_ms();
    int rc;

    if (why != NULL)
        *why = NULL;
    if (get == NULL || set == NULL || (rc = tx_begin(c)) != ODS_E_OK) {
        conn_release(c);
        return ODS_E_STORE;
    }
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++) {
        unsigned mods;
        if ((rc = asset_modules(get, ids[i], &mods)) != ODS_E_OK)
            break;
        mods = (mods | on) & ~off;
        const char *bad = filter_check_modules(mods);
        if (bad != NULL) {
            if (why != NULL)
                *why = bad;
            rc = ODS_E_PERM;
            break;
        }
        if (sqlite3_bind_int64(set, 1, ids[i]) != SQLITE_OK ||
            sqlite3_bind_int64(set, 2, mods) != SQLITE_OK ||
            sqlite3_bind_int64(set, 3, now) != SQLITE_OK || run(set) != SQLITE_DONE)
            rc = ODS_E_STORE;
    }
    rc = tx_finish(c, rc);
    conn_release(c);
    return rc;
}

/* --- vulnerability assessment ------------------------------------------------------ */

/* kb_one imports one record (see store_kb_import) and counts it. */
static int
kb_one(struct conn *c, const struct kb_record *r, int64_t now, struct kb_counts *cnt)
{
    sqlite3_stmt *get = stmt(c, S_KB_GET), *put = stmt(c, S_KB_PUT),
        *del = stmt(c, S_KB_ALIAS_DEL), *add = stmt(c, S_KB_ALIAS_ADD);
    bool held = false, newer = true;
    int src;

    if (get == NULL || put == NULL || del == NULL || add == NULL)
        return ODS_E_STORE;
    if (!fits(r->id, STORE_ADVISORY_ID_MAX) || r->id[0] == '\0')
        return ODS_E_INVAL;
    if (bind_text(get, 1, r->id) != SQLITE_OK)
        return ODS_E_STORE;
    src = sqlite3_step(get);
    if (src == SQLITE_ROW) {
        int64_t old = sqlite3_column_int64(get, 0);
        const void *doc = sqlite3_column_blob(get, 1);
        size_t len = (size_t)sqlite3_column_bytes(get, 1);
        held = true;
        newer = r->modified_ms > old || (r->modified_ms == 0 && old == 0 &&
            (len != r->len || (len > 0 && memcmp(doc, r->document, len) != 0)));
    }
    sqlite3_reset(get);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        return ODS_E_STORE;
    if (!newer) {
        cnt->skipped++;
        return ODS_E_OK;
    }
    if (r->len > INT_MAX || bind_text(put, 1, r->id) != SQLITE_OK ||
        sqlite3_bind_int64(put, 2, r->modified_ms) != SQLITE_OK ||
        sqlite3_bind_text(put, 3, r->document, (int)r->len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(put, 4, now) != SQLITE_OK || run(put) != SQLITE_DONE ||
        bind_text(del, 1, r->id) != SQLITE_OK || run(del) != SQLITE_DONE)
        return ODS_E_STORE;
    for (size_t i = 0; i < r->naliases; i++)
        if (bind_text(add, 1, r->aliases[i]) != SQLITE_OK || bind_text(add, 2, r->id) != SQLITE_OK ||
            run(add) != SQLITE_DONE)
            return ODS_E_STORE;
    if (held)
        cnt->updated++;
    else
        cnt->added++;
    return ODS_E_OK;
}

static int
sqlite_kb_import(store_t *st, const struct kb_record *recs, size_t n, struct kb_counts *out)
{
    struct conn *c = conn_acquire(st);
    struct kb_counts cnt = { 0 };
    int64_t now = now_ms();
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
            rc = kb_one(c, &recs[i], now, &cnt);
        if (rc == ODS_E_OK && cnt.added + cnt.updated > 0)
            rc = run_id(c, S_KB_EPOCH_BUMP);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    if (rc != ODS_E_OK)
        memset(&cnt, 0, sizeof(cnt));
    *out = cnt;
    return rc;
}

/* scalar reads the int64 of a statement without parameters. */
static int
scalar(store_t *st, enum stmt_id id, int64_t *out)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, id);
    int rc = ODS_E_STORE;

    if (q != NULL) {
        if (sqlite3_step(q) == SQLITE_ROW) {
            *out = sqlite3_column_int64(q, 0);
            rc = ODS_E_OK;
        }
        sqlite3_reset(q);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_kb_epoch(store_t *st, int64_t *out)
{
    return scalar(st, S_KB_EPOCH_GET, out);
}

static int
sqlite_kb_count(store_t *st, size_t *n)
{
    int64_t v = 0;
    int rc = scalar(st, S_KB_COUNT, &v);

    *n = rc == ODS_E_OK ? (size_t)v : 0;
    return rc;
}

static int
sqlite_kb_each(store_t *st, store_advisory_fn fn, void *arg)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_KB_EACH);
    int rc = ODS_E_STORE, src = SQLITE_ERROR;

    if (q != NULL) {
        rc = ODS_E_OK;
        while (rc == ODS_E_OK && (src = sqlite3_step(q)) == SQLITE_ROW)
            rc = fn(arg, (const char *)sqlite3_column_text(q, 0),
                (const char *)sqlite3_column_text(q, 1), (size_t)sqlite3_column_bytes(q, 1));
        if (rc == ODS_E_OK && src != SQLITE_DONE)
            rc = ODS_E_STORE;
        sqlite3_reset(q);
    }
    conn_release(c);
    return rc;
}

static int
sqlite_kb_claim(store_t *st, int64_t epoch, bool *mine)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_KB_CLAIM);
    int rc = ODS_E_STORE;

    *mine = false;
    if (q != NULL && sqlite3_bind_int64(q, 1, epoch) == SQLITE_OK && run(q) == SQLITE_DONE) {
        *mine = sqlite3_changes(c->db) > 0;
        rc = ODS_E_OK;
    }
    conn_release(c);
    return rc;
}

static int
sqlite_manifest_get(store_t *st, int64_t asset_id, char **json, size_t *len, char *hash,
    int64_t *scanned_ms)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_MANIFEST_GET);
    int rc = ODS_E_STORE;

    *json = NULL;
    if (q != NULL && sqlite3_bind_int64(q, 1, asset_id) == SQLITE_OK) {
        int src = sqlite3_step(q);
        if (src == SQLITE_ROW && (rc = doc_copy(q, 0, json, len)) == ODS_E_OK) {
            if (hash != NULL)
                col_text(q, 1, hash, STORE_MANIFEST_HASH);
            if (scanned_ms != NULL)
                *scanned_ms = sqlite3_column_int64(q, 2);
        } else if (src == SQLITE_DONE) {
            rc = ODS_E_NOTFOUND;
        }
        sqlite3_reset(q);
    }
    conn_release(c);
    return rc;
}

static void
id_read(sqlite3_stmt *q, void *record)
{
    *(int64_t *)record = sqlite3_column_int64(q, 0);
}

static int
sqlite_manifest_assets(store_t *st, int64_t **ids, size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_MANIFEST_ASSETS);
    void *rows = NULL;
    int rc = ODS_E_STORE;

    *ids = NULL;
    *n = 0;
    if (q != NULL && (rc = read_all(q, id_read, sizeof(**ids), &rows, n)) == ODS_E_OK)
        *ids = rows;
    conn_release(c);
    return rc;
}

static int
sqlite_vuln_last_scan(store_t *st, int64_t asset_id, int64_t *ms)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_MANIFEST_GET);
    int rc = ODS_E_STORE;

    if (q != NULL && sqlite3_bind_int64(q, 1, asset_id) == SQLITE_OK) {
        int src = sqlite3_step(q);
        if (src == SQLITE_ROW) {
            *ms = sqlite3_column_int64(q, 2);
            rc = ODS_E_OK;
        } else if (src == SQLITE_DONE) {
            rc = ODS_E_NOTFOUND;
        }
        sqlite3_reset(q);
    }
    conn_release(c);
    return rc;
}

static int
finding_put(sqlite3_stmt *q, int64_t asset_id, const struct finding *f, int64_t now)
{
    if (sqlite3_bind_int64(q, 1, asset_id) != SQLITE_OK ||
        bind_text_fit(q, 2, f->advisory_id, sizeof(f->advisory_id)) != SQLITE_OK ||
        bind_text_fit(q, 3, f->package, sizeof(f->package)) != SQLITE_OK ||
        bind_text_fit(q, 4, f->aliases, sizeof(f->aliases)) != SQLITE_OK ||
        bind_text_fit(q, 5, f->installed_version, sizeof(f->installed_version)) != SQLITE_OK ||
        bind_text_fit(q, 6, f->fixed_version, sizeof(f->fixed_version)) != SQLITE_OK ||
        bind_text_fit(q, 7, f->severity, sizeof(f->severity)) != SQLITE_OK ||
        sqlite3_bind_int(q, 8, f->score10) != SQLITE_OK ||
        sqlite3_bind_int64(q, 9, now) != SQLITE_OK || run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    return ODS_E_OK;
}

static void finding_read(sqlite3_stmt *q, void *record);

static int
finding_close(sqlite3_stmt *q, int64_t asset_id, const struct finding *f, int64_t now)
{
    if (sqlite3_bind_int64(q, 1, asset_id) != SQLITE_OK ||
        bind_text_fit(q, 2, f->advisory_id, sizeof(f->advisory_id)) != SQLITE_OK ||
        bind_text_fit(q, 3, f->package, sizeof(f->package)) != SQLITE_OK ||
        sqlite3_bind_int64(q, 4, now) != SQLITE_OK || run(q) != SQLITE_DONE)
        return ODS_E_STORE;
    return ODS_E_OK;
}

/* findings_tx writes one asset's assessment inside the caller's transaction: only what
 * findings_diff says changed, then one statement for the last seen time of the rest. */
static int
findings_tx(struct conn *c, const struct asset_findings *a, int64_t now)
{
    sqlite3_stmt *open = stmt(c, S_FINDING_OPEN), *put = stmt(c, S_FINDING_PUT),
        *close = stmt(c, S_FINDING_CLOSE), *seen = stmt(c, S_FINDING_SEEN);
    struct finding_change *ch = NULL;
    void *rows = NULL;
    size_t nopen = 0, nch = 0;
    int rc = ODS_E_STORE;

    if (open == NULL || put == NULL || close == NULL || seen == NULL ||
        sqlite3_bind_int64(open, 1, a->asset_id) != SQLITE_OK)
        goto out;
    if ((rc = read_all(open, finding_read, sizeof(struct finding), &rows, &nopen)) != ODS_E_OK ||
        (rc = findings_diff(rows, nopen, a->findings, a->n, &ch, &nch)) != ODS_E_OK)
        goto out;
    for (size_t i = 0; i < nch && rc == ODS_E_OK; i++)
        rc = ch[i].op == FINDING_PUT ? finding_put(put, a->asset_id, ch[i].f, now) :
            finding_close(close, a->asset_id, ch[i].f, now);
    if (rc == ODS_E_OK && a->n > 0 &&
        (sqlite3_bind_int64(seen, 1, a->asset_id) != SQLITE_OK ||
         sqlite3_bind_int64(seen, 2, now) != SQLITE_OK || run(seen) != SQLITE_DONE))
        rc = ODS_E_STORE;
out:
    free(ch);
    free(rows);
    return rc;
}

static int
sqlite_findings_write(store_t *st, const struct asset_findings *items, size_t n, int64_t now)
{
    struct conn *c = conn_acquire(st);
    int rc;

    if ((rc = tx_begin(c)) == ODS_E_OK) {
        for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
            rc = findings_tx(c, &items[i], now);
        rc = tx_finish(c, rc);
    }
    conn_release(c);
    return rc;
}

static void
finding_read(sqlite3_stmt *q, void *record)
{
    struct finding *f = record;

    f->asset_id = sqlite3_column_int64(q, 0);
    col_text(q, 1, f->advisory_id, sizeof(f->advisory_id));
    col_text(q, 2, f->aliases, sizeof(f->aliases));
    col_text(q, 3, f->package, sizeof(f->package));
    col_text(q, 4, f->installed_version, sizeof(f->installed_version));
    col_text(q, 5, f->fixed_version, sizeof(f->fixed_version));
    col_text(q, 6, f->severity, sizeof(f->severity));
    f->score10 = sqlite3_column_int(q, 7);
    f->first_seen_ms = sqlite3_column_int64(q, 8);
    f->last_seen_ms = sqlite3_column_int64(q, 9);
    f->fixed_ms = sqlite3_column_int64(q, 10);
}

static int
bind_or_null(sqlite3_stmt *q, int i, const char *s)
{
    return s != NULL ? bind_text(q, i, s) : sqlite3_bind_null(q, i);
}

static int
sqlite_findings_list(store_t *st, const struct finding_query *fq, struct finding **out,
    size_t *n)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, fq->asset_id > 0 ? S_FINDING_BY_ASSET : S_FINDING_BY_VULN);
    void *rows = NULL;
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q != NULL && sqlite3_bind_int64(q, 1, fq->asset_id) == SQLITE_OK &&
        bind_or_null(q, 2, fq->vuln_id) == SQLITE_OK && bind_or_null(q, 3, fq->severity) == SQLITE_OK &&
        bind_or_null(q, 4, fq->package) == SQLITE_OK &&
        sqlite3_bind_int(q, 5, (int)fq->status) == SQLITE_OK &&
        sqlite3_bind_int64(q, 6, fq->limit == 0 || fq->limit > INT64_MAX ? -1 :
            (int64_t)fq->limit) == SQLITE_OK &&
        (rc = read_all(q, finding_read, sizeof(**out), &rows, n)) == ODS_E_OK)
        *out = rows;
    conn_release(c);
    return rc;
}

static void
severity_read(sqlite3_stmt *q, void *record)
{
    struct severity_count *s = record;

    col_text(q, 0, s->severity, sizeof(s->severity));
    s->open = (size_t)sqlite3_column_int64(q, 1);
    s->fixed = (size_t)sqlite3_column_int64(q, 2);
    s->assets = (size_t)sqlite3_column_int64(q, 3);
}

static int
sqlite_findings_summary(store_t *st, struct severity_count **out, size_t *n,
    size_t *assets_affected, size_t *assets_scanned)
{
    struct conn *c = conn_acquire(st);
    sqlite3_stmt *q = stmt(c, S_FINDING_SUMMARY);
    void *rows = NULL;
    int64_t affected = 0, scanned = 0;
    int rc = ODS_E_STORE;

    *out = NULL;
    *n = 0;
    if (q != NULL && (rc = read_all(q, severity_read, sizeof(**out), &rows, n)) == ODS_E_OK)
        *out = rows;
    conn_release(c);
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
    .key_add           = sqlite_key_add,
    .key_list          = sqlite_key_list,
    .key_revoke        = sqlite_key_revoke,
    .key_get_id        = sqlite_key_get_id,
    .key_update        = sqlite_key_update,
    .key_del           = sqlite_key_del,
    .key_set_tags      = sqlite_key_set_tags,
    .key_tags          = sqlite_key_tags,
    .tag_add           = sqlite_tag_add,
    .tag_get           = sqlite_tag_get,
    .tag_get_id        = sqlite_tag_get_id,
    .tag_list          = sqlite_tag_list,
    .tag_rename        = sqlite_tag_rename,
    .tag_del           = sqlite_tag_del,
    .tag_assign        = sqlite_tag_assign,
    .kb_import         = sqlite_kb_import,
    .kb_epoch          = sqlite_kb_epoch,
    .kb_count          = sqlite_kb_count,
    .kb_each           = sqlite_kb_each,
    .kb_claim          = sqlite_kb_claim,
    .manifest_get      = sqlite_manifest_get,
    .manifest_assets   = sqlite_manifest_assets,
    .vuln_last_scan    = sqlite_vuln_last_scan,
    .findings_write    = sqlite_findings_write,
    .findings_list     = sqlite_findings_list,
    .findings_summary  = sqlite_findings_summary,
    .tag_unassign      = sqlite_tag_unassign,
    .asset_tags        = sqlite_asset_tags,
    .user_set_scope    = sqlite_user_set_scope,
    .user_scope        = sqlite_user_scope,
    .user_set_limits   = sqlite_user_set_limits,
    .user_limits       = sqlite_user_limits,
    .enroll            = sqlite_enroll,
    .agent_get         = sqlite_agent_get,
    .profile_add       = sqlite_profile_add,
    .profile_list      = sqlite_profile_list,
    .profile_get       = sqlite_profile_get,
    .profile_assign    = sqlite_profile_assign,
    .profile_for_asset = sqlite_profile_for_asset,
    .apply             = sqlite_apply,
    .jobs_sweep        = sqlite_jobs_sweep,
    .result_get        = sqlite_result_get,
    .inventory_get     = sqlite_inventory_get,
    .inventory_history = sqlite_inventory_history,
    .asset_search      = sqlite_asset_search,
    .asset_count       = sqlite_asset_count,
    .asset_set_modules = sqlite_asset_set_modules,
};
