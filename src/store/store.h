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
    int64_t updated_ms;
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
 * schema migrations. url: "sqlite:PATH", or a plain PATH meaning SQLite.
 * Returns 0, ODS_E_UNSUPPORTED (unknown scheme), ODS_E_STORE or ODS_E_NOMEM.
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

/* --- names -------------------------------------------------------------------------- */

/* role_name / job_state_name return the lower/upper-case names ("manager", "QUEUED"). */
const char *role_name(int role);
const char *job_state_name(int state);
/* role_parse maps a role name to enum role; returns 0 or ODS_E_PARSE. */
int role_parse(const char *name, int *out);

#endif
