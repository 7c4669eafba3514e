/* store.h - the storage interface. Every program reaches the database through these
 * calls only; the backend (SQLite now, PostgreSQL next) is chosen by the URL given to
 * store_open and is invisible above this line.
 *
 * All calls are safe from any thread. Strings in the records below are fixed-size,
 * NUL-terminated copies, so a record owns nothing; arrays returned through `**out`
 * are one malloc'd block the caller frees with free(). */
#ifndef ODSCAN_STORE_H
#define ODSCAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* The schema version this build writes: the number of migrations every backend
 * applies (each backend checks its own count against it at compile time). */
#define STORE_SCHEMA_VERSION 4

enum role { ROLE_MANAGER = 0, ROLE_SCANNER, ROLE_READER, ROLE_COUNT };

enum job_state {
    JOB_QUEUED = 0, JOB_DISPATCHED, JOB_RUNNING, JOB_COMPLETED, JOB_FAILED, JOB_EXPIRED,
    JOB_STATE_COUNT
};

#define STORE_NAME_MAX    64    /* user names, incl. NUL */
#define STORE_HASH_MAX    128   /* argon2id encoded hash, incl. NUL */
#define STORE_HOST_MAX    256   /* host names, incl. NUL */
#define STORE_ADDR_MAX    64    /* textual IPv4/IPv6 address, incl. NUL */
#define STORE_UUID_MAX    37
#define STORE_OS_MAX      16
#define STORE_TEXT_MAX    256

struct user {
    int64_t id;
    char    name[STORE_NAME_MAX];
    char    pwhash[STORE_HASH_MAX];
    int     role;                   /* enum role */
    int64_t created_ms;
    int     failed_count;           /* failed logins inside the current window */
    int64_t failed_since_ms;        /* start of that window */
    int64_t locked_until_ms;        /* 0 when not locked */
};

struct asset {
    int64_t  id;
    char     agent_uuid[STORE_UUID_MAX];   /* empty until an agent enrolls */
    char     hostname[STORE_HOST_MAX];
    char     os_family[STORE_OS_MAX];      /* linux, windows, macos, unix */
    unsigned modules;                      /* enum module bits */
    int64_t  created_ms;
    int64_t  updated_ms;
    int64_t  last_checkin_ms;              /* 0: never */
    /* filled in by enrollment and check-ins (empty/0 for assets added by hand) */
    char     fqdn[STORE_HOST_MAX];
    char     os_name[64];
    char     os_version[64];
    char     arch[32];
    char     machine_id[64];
    char     agent_version[32];
    char     last_address[STORE_ADDR_MAX];   /* where the agent last checked in from */
    int64_t  profile_id;                     /* 0: the OS family's default profile */
    int64_t  key_id;                         /* activation key it enrolled with, 0: none */
};

struct job {
    int64_t id;
    int64_t asset_id;
    int     scan_type;                  /* enum scan_type */
    bool    override_cpu;
    int     state;                      /* enum job_state */
    char    requested_by[STORE_NAME_MAX];
    char    requested_from[STORE_ADDR_MAX];
    int64_t created_ms;
    int64_t updated_ms;                 /* last state change */
    /* the job's life (0 = not reached) */
    int64_t dispatched_ms;
    int64_t started_ms;
    int64_t finished_ms;                /* COMPLETED, FAILED or EXPIRED */
    int64_t lease_deadline_ms;          /* DISPATCHED/RUNNING: handed out again after */
    int     attempts;                   /* times handed out */
    char    cpu_applied[64];            /* what the agent applied, e.g. "limit=20 throttle=0" */
    char    reason[STORE_TEXT_MAX];     /* FAILED/EXPIRED: why */
};

struct audit_entry {
    int64_t id;
    int64_t at_ms;
    char    user[STORE_NAME_MAX];       /* empty when unauthenticated */
    char    remote[STORE_ADDR_MAX];
    char    action[32];                 /* e.g. "launch" */
    char    target[STORE_TEXT_MAX];     /* e.g. "asset=19105105 scan=Inventory_Scan override=false" */
    char    result[32];                 /* the QPS responseCode, e.g. "SUCCESS" */
    char    detail[STORE_TEXT_MAX];     /* e.g. "job=42 existing" or the error message */
};

/* One launch inside a group commit. The caller fills the "in" fields; store_launch_batch
 * fills the "out" fields of every item. */
struct launch {
    /* in */
    int64_t     asset_id;
    int         scan_type;              /* enum scan_type */
    bool        override_cpu;
    const char *user;
    const char *remote;
    int64_t     at_ms;
    /* out */
    int         result;     /* 0: job queued or found; ODS_E_NOTFOUND: no such asset;
                               ODS_E_PERM: the module the scan needs is not activated;
                               ODS_E_INVAL: scan_type is not an enum scan_type */
    int64_t     job_id;     /* the new or the existing job */
    bool        existing;   /* an identical QUEUED/DISPATCHED/RUNNING job was found */
};

/* store_open opens (creating when needed) the database named by url and applies the
 * schema migrations. url: "sqlite:PATH", a plain PATH meaning SQLite, or PostgreSQL as
 * "postgresql://...", "postgres://..." or a libpq "key=value ..." string.
 * Returns 0, ODS_E_UNSUPPORTED (unknown scheme), ODS_E_STORE, ODS_E_UNAVAILABLE (the
 * database server cannot be reached) or ODS_E_NOMEM.
 * On failure *err (when non-NULL) receives a static or thread-local one-line reason. */
int store_open(const char *url, store_t **out, const char **err);
/* store_close closes every connection. NULL-safe. */
void store_close(store_t *st);

/* --- jobs: the launch path -------------------------------------------------------- */

/* store_launch_batch runs n launches in ONE transaction and commits it durably (fsync)
 * before returning. For each item: the asset must exist (else result ODS_E_NOTFOUND)
 * and have the scan's module activated (else ODS_E_PERM); an identical job (same
 * asset, scan type and override flag) in state QUEUED, DISPATCHED or RUNNING is reused
 * (existing=true); otherwise a QUEUED job is inserted. Each item's launch is written
 * to the audit log in the same transaction. Returns 0 when the transaction committed
 * (per-item results are then valid), or ODS_E_STORE when it did not: then nothing of
 * the batch was written. */
int store_launch_batch(store_t *st, struct launch *items, size_t n);

/* store_job_get reads one job. Returns 0 or ODS_E_NOTFOUND. */
int store_job_get(store_t *st, int64_t id, struct job *out);
/* store_job_list lists jobs, newest first; asset_id 0 means every asset.
 * Caller frees *out. */
int store_job_list(store_t *st, int64_t asset_id, struct job **out, size_t *n);

/* --- users -------------------------------------------------------------------------- */

/* store_user_add creates a user. Returns 0 or ODS_E_EXISTS. */
int store_user_add(store_t *st, const char *name, const char *pwhash, int role);
/* store_user_get reads a user by name. Returns 0 or ODS_E_NOTFOUND. */
int store_user_get(store_t *st, const char *name, struct user *out);
/* store_user_list lists users by name. Caller frees *out. */
int store_user_list(store_t *st, struct user **out, size_t *n);
/* store_user_set_password replaces the hash, clears any lock, and bumps the auth epoch.
 * Returns 0 or ODS_E_NOTFOUND. */
int store_user_set_password(store_t *st, const char *name, const char *pwhash);
/* store_user_set_role changes the role and bumps the auth epoch. 0 or ODS_E_NOTFOUND. */
int store_user_set_role(store_t *st, const char *name, int role);
/* store_user_del deletes a user and bumps the auth epoch. 0 or ODS_E_NOTFOUND. */
int store_user_del(store_t *st, const char *name);
/* store_user_login_failed records a failed login at now_ms: failures older than
 * window_ms start a new window; reaching max_failures inside the window locks the
 * account until now_ms + lock_ms. *locked (may be NULL) tells whether it is locked now.
 * Returns 0 or ODS_E_NOTFOUND. */
int store_user_login_failed(store_t *st, const char *name, int64_t now_ms,
    int64_t window_ms, int max_failures, int64_t lock_ms, bool *locked);
/* store_user_login_ok clears the failure window after a successful login. */
int store_user_login_ok(store_t *st, const char *name);
/* store_auth_epoch reads the counter bumped by every password, role or user change;
 * servers drop cached credentials when it moves. */
int store_auth_epoch(store_t *st, int64_t *out);

/* --- assets ------------------------------------------------------------------------- */

/* store_asset_add creates an asset with the given id (created/updated set to now).
 * Returns 0 or ODS_E_EXISTS. */
int store_asset_add(store_t *st, const struct asset *a);
/* store_asset_get reads one asset. Returns 0 or ODS_E_NOTFOUND. */
int store_asset_get(store_t *st, int64_t id, struct asset *out);
/* store_asset_list lists assets by id. Caller frees *out. */
int store_asset_list(store_t *st, struct asset **out, size_t *n);

/* --- audit -------------------------------------------------------------------------- */

/* store_audit_add appends one entry (its id and, when 0, at_ms are filled in). */
int store_audit_add(store_t *st, const struct audit_entry *e);
/* store_audit_list lists the newest `limit` entries, newest first. Caller frees *out. */
int store_audit_list(store_t *st, size_t limit, struct audit_entry **out, size_t *n);

/* --- activation keys, agents, profiles (the agent issue) --------------------------- */

#define STORE_KEY_MAX 40        /* activation key token (a UUID), incl. NUL */

struct actkey {
    int64_t  id;
    char     token[STORE_KEY_MAX];     /* what the agent presents */
    char     name[STORE_NAME_MAX];     /* title; may be empty */
    unsigned modules;                  /* enum module bits given to enrolling assets */
    int      max_uses;                 /* 0: unlimited */
    int      uses;
    int64_t  expires_ms;               /* 0: never */
    bool     revoked;
    int64_t  created_ms;
};

struct agent {
    char    uuid[STORE_UUID_MAX];
    int64_t asset_id;
    char    secret_hash[65];           /* hex BLAKE2b-256 of the secret; the secret is never stored */
    int64_t enrolled_ms;
};

struct profile {
    int64_t id;
    char    name[STORE_NAME_MAX];
    char    os_family[STORE_OS_MAX];   /* set on the per-OS default profiles, else empty */
    bool    is_default;                /* the default for os_family */
    int     cpu_limit;                 /* percent of one core, 2..100 */
    int     cpu_throttle;              /* 0..1000 */
    int     checkin_hold_s;            /* long-poll hold, 1..600 */
    int     lease_s;                   /* job lease, 10..86400 */
    int     max_concurrent;            /* scans at once, 1..SCAN_TYPE_COUNT */
};

/* What an enrolling agent says of itself, and the identity the server made for it. */
struct enrollment {
    const char *key_token;
    const char *uuid;
    const char *secret_hash;
    const char *hostname, *fqdn, *os_family, *os_name, *os_version, *arch, *machine_id;
    const char *agent_version;
    const char *remote;
    int64_t     now_ms;
};

/* store_key_add creates a key (id, uses and created_ms are filled in *k).
 * Returns 0 or ODS_E_EXISTS (token clash). */
int store_key_add(store_t *st, struct actkey *k);
/* store_key_list lists keys by id. Caller frees *out. */
int store_key_list(store_t *st, struct actkey **out, size_t *n);
/* store_key_revoke revokes a key given by token or by name. 0 or ODS_E_NOTFOUND. */
int store_key_revoke(store_t *st, const char *token_or_name);
/* store_key_get_id reads a key by id. 0 or ODS_E_NOTFOUND. */
int store_key_get_id(store_t *st, int64_t id, struct actkey *out);
/* store_key_update rewrites the name, modules, max_uses, expires_ms and revoked flag of
 * key k->id; its token, uses and created_ms stay. 0, ODS_E_NOTFOUND or ODS_E_INVAL (a
 * name too long, a negative count or time). */
int store_key_update(store_t *st, const struct actkey *k);
/* store_key_del deletes a key for good, with its tags. Assets that enrolled with it
 * keep their agent and tags; their key reference is cleared. 0 or ODS_E_NOTFOUND. */
int store_key_del(store_t *st, int64_t id);

/* store_enroll, in one transaction: checks the key (ODS_E_NOTFOUND unknown; ODS_E_PERM
 * revoked, expired or used up — *why, when non-NULL, gets a static reason), counts the
 * use, creates the asset (id = max(largest id + 1, 100001); modules and tags from the
 * key; os_family's default profile) and the agent. *asset receives the new asset. */
int store_enroll(store_t *st, const struct enrollment *e, struct asset *asset, const char **why);
/* store_agent_get reads an agent by UUID. 0 or ODS_E_NOTFOUND. */
int store_agent_get(store_t *st, const char *uuid, struct agent *out);

/* store_profile_add creates a profile (id filled in). 0, ODS_E_EXISTS or ODS_E_INVAL
 * (a value out of its range). */
int store_profile_add(store_t *st, struct profile *p);
/* store_profile_list lists profiles by id. Caller frees *out. */
int store_profile_list(store_t *st, struct profile **out, size_t *n);
/* store_profile_get reads a profile by name. 0 or ODS_E_NOTFOUND. */
int store_profile_get(store_t *st, const char *name, struct profile *out);
/* store_profile_assign gives an asset a profile by name. 0 or ODS_E_NOTFOUND. */
int store_profile_assign(store_t *st, int64_t asset_id, const char *profile_name);
/* store_profile_for_asset reads the profile in force for an asset: its own, else the
 * default of its OS family, else the linux default. 0 or ODS_E_NOTFOUND (no asset). */
int store_profile_for_asset(store_t *st, int64_t asset_id, struct profile *out);

/* --- the job's life: operations batched by the group committer ------------------- */

#define STORE_CLAIM_MAX 8       /* jobs handed out by one check-in at most */

enum store_op_kind {
    STORE_OP_LAUNCH = 0,    /* u.launch: as store_launch_batch */
    STORE_OP_CHECKIN,       /* u.checkin: record the check-in; result 0 or NOTFOUND */
    STORE_OP_CLAIM,         /* u.claim: hand out QUEUED jobs */
    STORE_OP_JOB_START,     /* u.update: DISPATCHED -> RUNNING */
    STORE_OP_JOB_HEARTBEAT, /* u.update: renew a RUNNING job's lease */
    STORE_OP_JOB_FINISH,    /* u.update: -> COMPLETED/FAILED, with the result */
};

struct checkin {
    int64_t     asset_id;
    int64_t     now_ms;
    const char *agent_version;
    const char *remote;
};

struct claim {
    /* in */
    int64_t  asset_id;
    int64_t  now_ms;
    int64_t  lease_ms;
    unsigned max_jobs;          /* how many may be handed out now (<= STORE_CLAIM_MAX) */
    unsigned busy_types;        /* bit (1 << scan_type) for each type running: not handed out */
    /* out */
    size_t     n;
    struct job jobs[STORE_CLAIM_MAX];
};

struct job_update {
    /* in */
    int64_t     asset_id;       /* the caller's asset: a job of another asset is NOTFOUND */
    int64_t     job_id;
    int64_t     now_ms;
    int64_t     lease_ms;       /* START/HEARTBEAT: new deadline = now + lease */
    const char *cpu_applied;    /* START */
    int         final_state;    /* FINISH: JOB_COMPLETED or JOB_FAILED */
    const char *reason;         /* FINISH with FAILED */
    const char *result_json;    /* FINISH with COMPLETED: the scan's document (may be NULL) */
    size_t      result_len;
    /* FINISH of a COMPLETED Vulnerability_Scan whose document is a package manifest
     * (the caller checked it and its hash): the hash, and whether the document is only
     * {"manifest_hash", "unchanged": true}. NULL for any other document. */
    const char *manifest_hash;
    bool        manifest_hash_only;
    /* out */
    bool        duplicate;      /* FINISH of a job already finished: nothing changed */
    int         scan_type;
};

/* One operation of a batch; result is set by store_apply: 0, ODS_E_NOTFOUND (no such
 * job/asset for this caller), ODS_E_BUSY (the job is not in a state allowing it), or
 * for LAUNCH the results documented on struct launch. */
struct store_op {
    enum store_op_kind kind;
    int                result;
    union {
        struct launch     launch;
        struct checkin    checkin;
        struct claim      claim;
        struct job_update update;
    } u;
};

/* store_apply runs n operations in ONE transaction, committed durably before it returns
 * (like store_launch_batch, which is store_apply over LAUNCH operations).
 * Semantics per kind:
 * - CHECKIN: asset last_checkin_ms, agent_version and last_address updated.
 * - CLAIM: up to max_jobs QUEUED jobs of the asset, oldest first, skipping types in
 *   busy_types and never two of one type, move to DISPATCHED (dispatched_ms, lease
 *   deadline = now + lease_ms, attempts + 1) and are copied into jobs[].
 * - JOB_START: DISPATCHED (or RUNNING again: idempotent) -> RUNNING, started_ms,
 *   cpu_applied, lease renewed; other states -> ODS_E_BUSY.
 * - JOB_HEARTBEAT: RUNNING/DISPATCHED lease renewed; other states -> ODS_E_BUSY.
 * - JOB_FINISH: a job in QUEUED, DISPATCHED or RUNNING (QUEUED: its lease ran out but
 *   the agent finished anyway) -> final_state, finished_ms, reason; a COMPLETED
 *   Inventory_Scan result becomes the asset's latest inventory and adds a line to its
 *   inventory history. A job already COMPLETED/FAILED -> result 0, duplicate = true,
 *   nothing written. EXPIRED -> ODS_E_BUSY. A Vulnerability_Scan with manifest_hash:
 *   a full manifest becomes the asset's stored manifest (vuln_manifests); a hash-only
 *   one must name the stored manifest's hash, else result ODS_E_CONFLICT and nothing
 *   is written (the agent then sends it in full). Either way the asset's last
 *   vulnerability scan time becomes now_ms.
 * Returns 0 (per-op results valid) or ODS_E_STORE (nothing written). */
int store_apply(store_t *st, struct store_op *ops, size_t n);

/* store_jobs_sweep: DISPATCHED/RUNNING jobs whose lease deadline passed go back to
 * QUEUED (lease cleared); QUEUED jobs created more than expire_ms ago become EXPIRED
 * (finished_ms, reason "not picked up in time"). Counts go to *requeued and *expired (may be
 * NULL). Assets whose jobs were requeued are written into requeued_assets (up to cap)
 * so the server can wake their agents. */
int store_jobs_sweep(store_t *st, int64_t now_ms, int64_t expire_ms, size_t *requeued,
    size_t *expired, int64_t *requeued_assets, size_t cap, size_t *n_assets);

/* store_result_get reads a finished job's uploaded document. Caller frees *json.
 * 0 or ODS_E_NOTFOUND (no result stored). */
int store_result_get(store_t *st, int64_t job_id, char **json, size_t *len);
/* store_inventory_get reads the asset's latest inventory document with the job and
 * time it came from. Caller frees *json. 0 or ODS_E_NOTFOUND. */
int store_inventory_get(store_t *st, int64_t asset_id, char **json, size_t *len,
    int64_t *job_id, int64_t *collected_ms);
/* store_inventory_history lists the times (ms, newest first, at most cap) of the
 * asset's inventory scans into at[]; *n gets the count. */
int store_inventory_history(store_t *st, int64_t asset_id, int64_t *at, size_t cap, size_t *n);

/* --- several servers on one database ---------------------------------------------- */

/* Called when another process may have made a job available for asset_id (0: for any
 * asset — events may have been missed, e.g. after a reconnect). Runs on a thread of
 * the store's; keep it short. */
typedef void (*store_job_event_fn)(void *ctx, int64_t asset_id);

/* store_watch_jobs starts delivering job events written by any node sharing the
 * database (PostgreSQL LISTEN/NOTIFY; every committed launch, and every job handed
 * out again by a sweep, is announced). Returns 0, or ODS_E_UNSUPPORTED for backends
 * that serve one node only (SQLite). The watch ends with store_close. */
int store_watch_jobs(store_t *st, store_job_event_fn cb, void *ctx);

/* A backend that loses its database returns ODS_E_UNAVAILABLE (not ODS_E_STORE) from
 * any call until it has reconnected; the server answers 503 then. */

/* --- tags, user scopes and limits (the QPS API issue) ------------------------------ */

#define STORE_TAG_MAX 128      /* tag name, incl. NUL */

struct tag {
    int64_t id;
    char    name[STORE_TAG_MAX];
    int64_t created_ms;
};

/* Schema (migration 3): tags(id, name UNIQUE, created_ms); asset_tags(asset_id, tag_id,
 * PRIMARY KEY both, ON DELETE CASCADE); user_scopes(user_id, tag_id) — a user with rows
 * here sees only assets carrying one of these tags; user_limits(user_id PRIMARY KEY,
 * calls, window_s, concurrency); key_tags(key_id, tag_id). */

/* store_tag_add creates a tag (id filled). 0 or ODS_E_EXISTS. */
int store_tag_add(store_t *st, struct tag *t);
/* store_tag_get reads a tag by name. 0 or ODS_E_NOTFOUND. */
int store_tag_get(store_t *st, const char *name, struct tag *out);
/* store_tag_get_id reads a tag by id. 0 or ODS_E_NOTFOUND. */
int store_tag_get_id(store_t *st, int64_t id, struct tag *out);
/* store_tag_list lists tags by name; name_contains (NULL: all) filters. Caller frees. */
int store_tag_list(store_t *st, const char *name_contains, struct tag **out, size_t *n);
/* store_tag_rename renames a tag. 0, ODS_E_NOTFOUND or ODS_E_EXISTS. */
int store_tag_rename(store_t *st, int64_t id, const char *new_name);
/* store_tag_del deletes a tag (and its assignments and scope rows). 0 or NOTFOUND.
 * Bumps the auth epoch when a user scope referenced it. */
int store_tag_del(store_t *st, int64_t id);
/* store_tag_assign / store_tag_unassign put a tag on / take it off an asset.
 * 0 or ODS_E_NOTFOUND (asset or tag). Assigning twice is not an error. */
int store_tag_assign(store_t *st, int64_t tag_id, int64_t asset_id);
int store_tag_unassign(store_t *st, int64_t tag_id, int64_t asset_id);
/* store_asset_tags lists an asset's tags. Caller frees *out. */
int store_asset_tags(store_t *st, int64_t asset_id, struct tag **out, size_t *n);
/* store_key_set_tags replaces the tags an activation key gives enrolling assets
 * (store_enroll assigns them in its transaction). 0 or ODS_E_NOTFOUND. */
int store_key_set_tags(store_t *st, int64_t key_id, const int64_t *tag_ids, size_t n);
/* store_key_tags lists a key's tags. Caller frees *out. */
int store_key_tags(store_t *st, int64_t key_id, struct tag **out, size_t *n);

/* store_user_set_scope limits a user to assets carrying any of the tags (n = 0: no
 * limit) and bumps the auth epoch. 0 or ODS_E_NOTFOUND (user or a tag). */
int store_user_set_scope(store_t *st, const char *user, const int64_t *tag_ids, size_t n);
/* store_user_scope reads a user's scope tags (none: unlimited). Caller frees *out. */
int store_user_scope(store_t *st, const char *user, struct tag **out, size_t *n);

struct user_limits {
    int calls;          /* per window; 0: server default */
    int window_s;       /* 0: server default */
    int concurrency;    /* requests at once; 0: server default */
};
/* store_user_set_limits / store_user_limits write / read a user's own limits (all 0
 * when none were set). 0 or ODS_E_NOTFOUND. set bumps the auth epoch. */
int store_user_set_limits(store_t *st, const char *user, const struct user_limits *l);
int store_user_limits(store_t *st, const char *user, struct user_limits *out);

/* --- asset search by QPS filters ----------------------------------------------------- */

#define FILTER_CRITERIA_MAX 32
#define FILTER_VALUES_MAX   10000   /* values of one IN criterion */

enum filter_field {
    FF_ID = 0, FF_NAME, FF_AGENT_UUID, FF_TAG_NAME, FF_TAG_ID, FF_OS, FF_LAST_CHECKED_IN,
    FF_AGENT_VERSION, FF_ACTIVATION_KEY, FF_CREATED, FF_UPDATED, FF_DNS_HOST_NAME,
    FF_ADDRESS, FF_LAST_VULN_SCAN, FF_AGENT_CONFIGURATION_NAME, FF_AGENT_CONFIGURATION_ID,
    FF_COUNT
};
enum filter_op { FO_EQUALS = 0, FO_NOT_EQUALS, FO_GREATER, FO_LESSER, FO_IN, FO_CONTAINS };

struct criterion {
    enum filter_field field;
    enum filter_op    op;
    size_t            nvalues;      /* 1, or more for IN, 2 for dates */
    char            **values;       /* text as the client sent it (integers in decimal;
                                       dates: two values, the first and the end
                                       (exclusive) ms since epoch of the second or day
                                       written, in decimal) */
};

/* An asset query: criteria combined with AND, restricted to a scope (scope_n == 0 and
 * scope_all: everything; else assets carrying one of scope_tags), paged by id. */
struct asset_query {
    const struct criterion *criteria;
    size_t                  ncriteria;
    bool                    scope_all;
    const int64_t          *scope_tags;
    size_t                  scope_n;
    int64_t                 after_id;   /* only ids > after_id (0: from the start) */
    size_t                  offset;     /* rows skipped after that */
    size_t                  limit;      /* at most this many ids (0: no limit) */
};

/* Matching (src/store/filter_sql.c): text and keyword fields compare without regard to
 * case; NOT EQUALS is the negation of EQUALS (tagName NOT EQUALS x: no tag named x);
 * a date of 0 (never) matches no date but NOT EQUALS; os matches os_name or os_family;
 * activationKey the key's token or name; dnsHostName the fqdn, else the hostname. */
/* store_asset_search writes the matching asset ids, ascending, into *ids (caller frees)
 * and their number into *n; *more tells whether more rows match beyond limit.
 * Returns 0 or ODS_E_STORE. */
int store_asset_search(store_t *st, const struct asset_query *q, int64_t **ids, size_t *n,
    bool *more);
/* store_asset_count counts the matching assets (limit/offset ignored). */
int store_asset_count(store_t *st, const struct asset_query *q, size_t *n);
/* store_asset_set_modules turns modules on (`on`) and off (`off`) on the given assets in
 * one transaction, refusing the whole change (ODS_E_PERM, *why set) when any asset
 * would break a rule: PC and SCA are exclusive, SWCA needs VM. 0 or ODS_E_NOTFOUND. */
int store_asset_set_modules(store_t *st, const int64_t *ids, size_t n, unsigned on,
    unsigned off, const char **why);

/* --- vulnerability assessment (migration 4) ---------------------------------------- */

/* Schema (migration 4): advisories(id PRIMARY KEY, modified_ms, document: normalized OSV
 * JSON, imported_ms); advisory_aliases(alias, advisory_id); vuln_manifests(asset_id
 * PRIMARY KEY, job_id, hash, document, collected_ms, scanned_ms: the last
 * Vulnerability_Scan, full or hash-only); vuln_findings(asset_id, advisory_id, package,
 * aliases, installed_version, fixed_version, severity, score10, first_seen_ms,
 * last_seen_ms, fixed_ms: 0 while open); meta 'kb_epoch' (bumped by every import that
 * changed something) and 'kb_assessed_epoch' (the epoch whose fleet re-assessment a
 * node claimed).
 *
 * For the HostAsset views: an asset's lastVulnScan is store_vuln_last_scan(), and in SQL
 * vuln_manifests.scanned_ms joined on asset_id (no row: never scanned); its vuln list is
 * store_findings_list() with finding_query.asset_id set. */

#define STORE_ADVISORY_ID_MAX 128    /* incl. NUL */
#define STORE_ALIASES_MAX     512    /* comma-separated aliases, incl. NUL (cut at a comma) */
#define STORE_PACKAGE_MAX     256
#define STORE_VERSION_MAX     256
#define STORE_SEVERITY_MAX    16     /* CRITICAL HIGH MEDIUM LOW NONE UNKNOWN */
#define STORE_MANIFEST_HASH   65     /* hex SHA-256, incl. NUL */

/* One advisory to import: its normalized OSV document and the keys indexed. */
struct kb_record {
    const char         *id;
    int64_t             modified_ms;
    const char         *document;
    size_t              len;
    const char *const  *aliases;
    size_t              naliases;
};

struct kb_counts {
    size_t added;       /* ids not held before */
    size_t updated;     /* newer modified time, or (no time) a different document */
    size_t skipped;     /* same or older */
};

/* store_kb_import writes the records in ONE transaction (all or nothing): each id not
 * held is added; one held is replaced (document and aliases) when the record's
 * modified time is newer, or when both times are 0 and the documents differ; otherwise
 * skipped. Bumps kb_epoch when anything was added or updated. *out gets the counts.
 * Returns 0, ODS_E_INVAL (an id longer than STORE_ADVISORY_ID_MAX - 1) or ODS_E_STORE. */
int store_kb_import(store_t *st, const struct kb_record *recs, size_t n, struct kb_counts *out);
/* store_kb_epoch reads kb_epoch; servers rebuild their matcher when it moves. */
int store_kb_epoch(store_t *st, int64_t *out);
/* store_kb_count counts the advisories held. */
int store_kb_count(store_t *st, size_t *n);
/* Called for every advisory held; a non-zero return stops the walk and is returned. */
typedef int (*store_advisory_fn)(void *arg, const char *id, const char *document, size_t len);
/* store_kb_each calls fn for every advisory held, by id. The strings are valid during
 * the call only. Returns 0, fn's result or ODS_E_STORE. */
int store_kb_each(store_t *st, store_advisory_fn fn, void *arg);
/* store_kb_claim makes this caller the one node that re-assesses the fleet for epoch:
 * *mine is true when kb_assessed_epoch was below epoch (it is now epoch). */
int store_kb_claim(store_t *st, int64_t epoch, bool *mine);

/* store_manifest_get reads the asset's stored manifest (the last full one). Caller
 * frees *json. hash (STORE_MANIFEST_HASH bytes) and scanned_ms may be NULL.
 * Returns 0 or ODS_E_NOTFOUND. */
int store_manifest_get(store_t *st, int64_t asset_id, char **json, size_t *len, char *hash,
    int64_t *scanned_ms);
/* store_manifest_assets lists the ids of assets with a stored manifest, ascending.
 * Caller frees *ids. */
int store_manifest_assets(store_t *st, int64_t **ids, size_t *n);
/* store_vuln_last_scan reads the asset's last Vulnerability_Scan time (the HostAsset
 * lastVulnScan): 0, or ODS_E_NOTFOUND when it was never scanned. */
int store_vuln_last_scan(store_t *st, int64_t asset_id, int64_t *ms);

struct finding {
    int64_t asset_id;
    char    advisory_id[STORE_ADVISORY_ID_MAX];
    char    aliases[STORE_ALIASES_MAX];          /* "CVE-2024-1,CVE-2024-2" */
    char    package[STORE_PACKAGE_MAX];          /* source name for Debian/Ubuntu */
    char    installed_version[STORE_VERSION_MAX];
    char    fixed_version[STORE_VERSION_MAX];    /* "" when no fix yet */
    char    severity[STORE_SEVERITY_MAX];
    int     score10;                             /* CVSS x 10, -1 unknown */
    int64_t first_seen_ms;
    int64_t last_seen_ms;
    int64_t fixed_ms;                            /* 0: open */
};

/* One asset's complete assessment: every finding open now. */
struct asset_findings {
    int64_t               asset_id;
    const struct finding *findings;   /* asset_id/first/last/fixed fields are ignored */
    size_t                n;
};

/* store_findings_write records n assessments in ONE transaction: each finding is
 * inserted (first and last seen now_ms) or, when (asset, advisory, package) is held,
 * refreshed (last seen now_ms, reopened when it was fixed); the asset's open findings
 * missing from its assessment become fixed at now_ms (kept, not deleted). Only what
 * changed is written: the asset's open findings are read and diffed with its assessment,
 * new, reopened and changed ones are written row by row, and the last seen time of the
 * unchanged ones moves with one statement per asset.
 * Returns 0, ODS_E_NOMEM or ODS_E_STORE. */
int store_findings_write(store_t *st, const struct asset_findings *items, size_t n,
    int64_t now_ms);

enum finding_status { FINDING_ANY = 0, FINDING_OPEN, FINDING_FIXED };

/* A findings query: one asset's (asset_id > 0), or those of one advisory id or alias
 * over every asset (vuln_id set). severity and package (NULL: any) filter exactly. */
struct finding_query {
    int64_t              asset_id;
    const char          *vuln_id;
    const char          *severity;
    const char          *package;
    enum finding_status  status;
    size_t               limit;     /* 0: no limit */
};

/* store_findings_list lists findings by asset, then score (highest first), advisory
 * and package. Caller frees *out. Returns 0, ODS_E_INVAL (neither asset nor id) or
 * ODS_E_STORE. */
int store_findings_list(store_t *st, const struct finding_query *q, struct finding **out,
    size_t *n);

/* Fleet counts of one severity. */
struct severity_count {
    char   severity[STORE_SEVERITY_MAX];
    size_t open;        /* open findings */
    size_t fixed;       /* findings fixed since */
    size_t assets;      /* assets with an open finding of this severity */
};

/* store_findings_summary counts findings by severity (caller frees *out), the assets
 * with any open finding and the assets with a stored manifest. */
int store_findings_summary(store_t *st, struct severity_count **out, size_t *n,
    size_t *assets_affected, size_t *assets_scanned);

/* --- names -------------------------------------------------------------------------- */

/* role_name / job_state_name return the lower/upper-case names ("manager", "QUEUED"). */
const char *role_name(int role);
const char *job_state_name(int state);
/* role_parse maps a role name to enum role; returns 0 or ODS_E_PARSE. */
int role_parse(const char *name, int *out);

#endif
