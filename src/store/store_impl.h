/* store_impl.h - private to src/store/: the table of operations every storage backend
 * provides, and the handle that carries it. store.c forwards each public store_* call
 * through st->ops; a backend embeds struct store as the first member of its own handle. */
#ifndef ODSCAN_STORE_IMPL_H
#define ODSCAN_STORE_IMPL_H

#include "store.h"

struct store_ops {
    const char *name;   /* "sqlite", "postgresql" */
    void (*close)(store_t *st);

    int (*launch_batch)(store_t *st, struct launch *items, size_t n);
    int (*job_get)(store_t *st, int64_t id, struct job *out);
    int (*job_list)(store_t *st, int64_t asset_id, struct job **out, size_t *n);

    int (*user_add)(store_t *st, const char *name, const char *pwhash, int role);
    int (*user_get)(store_t *st, const char *name, struct user *out);
    int (*user_list)(store_t *st, struct user **out, size_t *n);
    int (*user_set_password)(store_t *st, const char *name, const char *pwhash);
    int (*user_set_role)(store_t *st, const char *name, int role);
    int (*user_del)(store_t *st, const char *name);
    int (*user_login_failed)(store_t *st, const char *name, int64_t now_ms,
        int64_t window_ms, int max_failures, int64_t lock_ms, bool *locked);
    int (*user_login_ok)(store_t *st, const char *name);
    int (*auth_epoch)(store_t *st, int64_t *out);

    int (*asset_add)(store_t *st, const struct asset *a);
    int (*asset_get)(store_t *st, int64_t id, struct asset *out);
    int (*asset_list)(store_t *st, struct asset **out, size_t *n);

    int (*audit_add)(store_t *st, const struct audit_entry *e);
    int (*audit_list)(store_t *st, size_t limit, struct audit_entry **out, size_t *n);

    int (*key_add)(store_t *st, struct actkey *k);
    int (*key_list)(store_t *st, struct actkey **out, size_t *n);
    int (*key_revoke)(store_t *st, const char *token_or_name);
    int (*key_get_id)(store_t *st, int64_t id, struct actkey *out);
    int (*key_update)(store_t *st, const struct actkey *k);
    int (*key_del)(store_t *st, int64_t id);
    int (*key_set_tags)(store_t *st, int64_t key_id, const int64_t *tag_ids, size_t n);
    int (*key_tags)(store_t *st, int64_t key_id, struct tag **out, size_t *n);

    int (*tag_add)(store_t *st, struct tag *t);
    int (*tag_get)(store_t *st, const char *name, struct tag *out);
    int (*tag_get_id)(store_t *st, int64_t id, struct tag *out);
    int (*tag_list)(store_t *st, const char *name_contains, struct tag **out, size_t *n);
    int (*tag_rename)(store_t *st, int64_t id, const char *new_name);
    int (*tag_del)(store_t *st, int64_t id);
    int (*tag_assign)(store_t *st, int64_t tag_id, int64_t asset_id);
    int (*tag_unassign)(store_t *st, int64_t tag_id, int64_t asset_id);
    int (*asset_tags)(store_t *st, int64_t asset_id, struct tag **out, size_t *n);
    int (*user_set_scope)(store_t *st, const char *user, const int64_t *tag_ids, size_t n);
    int (*user_scope)(store_t *st, const char *user, struct tag **out, size_t *n);
    int (*user_set_limits)(store_t *st, const char *user, const struct user_limits *l);
    int (*kb_import)(store_t *st, const struct kb_record *recs, size_t n,
        struct kb_counts *out);
    int (*kb_epoch)(store_t *st, int64_t *out);
    int (*kb_count)(store_t *st, size_t *n);
    int (*kb_each)(store_t *st, store_advisory_fn fn, void *arg);
    int (*kb_claim)(store_t *st, int64_t epoch, bool *mine);
    int (*manifest_get)(store_t *st, int64_t asset_id, char **json, size_t *len, char *hash,
        int64_t *scanned_ms);
    int (*manifest_assets)(store_t *st, int64_t **ids, size_t *n);
    int (*vuln_last_scan)(store_t *st, int64_t asset_id, int64_t *ms);
    int (*findings_write)(store_t *st, const struct asset_findings *items, size_t n,
        int64_t now_ms);
    int (*findings_list)(store_t *st, const struct finding_query *q, struct finding **out,
        size_t *n);
    int (*findings_summary)(store_t *st, struct severity_count **out, size_t *n,
        size_t *assets_affected, size_t *assets_scanned);
    int (*user_limits)(store_t *st, const char *user, struct user_limits *out);
    int (*enroll)(store_t *st, const struct enrollment *e, struct asset *asset,
        const char **why);
    int (*agent_get)(store_t *st, const char *uuid, struct agent *out);

    int (*profile_add)(store_t *st, struct profile *p);
    int (*profile_list)(store_t *st, struct profile **out, size_t *n);
    int (*profile_get)(store_t *st, const char *name, struct profile *out);
    int (*profile_assign)(store_t *st, int64_t asset_id, const char *profile_name);
    int (*profile_for_asset)(store_t *st, int64_t asset_id, struct profile *out);

    int (*apply)(store_t *st, struct store_op *ops, size_t n);
    int (*jobs_sweep)(store_t *st, int64_t now_ms, int64_t expire_ms, size_t *requeued,
        size_t *expired, int64_t *requeued_assets, size_t cap, size_t *n_assets);
    int (*result_get)(store_t *st, int64_t job_id, char **json, size_t *len);
    int (*inventory_get)(store_t *st, int64_t asset_id, char **json, size_t *len,
        int64_t *job_id, int64_t *collected_ms);
    int (*inventory_history)(store_t *st, int64_t asset_id, int64_t *at, size_t cap,
        size_t *n);
    int (*asset_search)(store_t *st, const struct asset_query *q, int64_t **ids, size_t *n,
        bool *more);
    int (*asset_count)(store_t *st, const struct asset_query *q, size_t *n);
    int (*asset_set_modules)(store_t *st, const int64_t *ids, size_t n, unsigned on,
        unsigned off, const char **why);
    /* NULL for backends serving one node */
    int (*watch_jobs)(store_t *st, store_job_event_fn cb, void *ctx);
};

struct store {
    const struct store_ops *ops;
};

/* store_sqlite_open opens the SQLite database at path (created when missing; its
 * directory must exist), sets WAL, synchronous=FULL, foreign keys and the busy
 * timeout on every pooled connection, and applies pending schema migrations.
 * Returns 0 with *out set (free with store_close), ODS_E_STORE or ODS_E_NOMEM with
 * *err (when non-NULL) set to a thread-local one-line reason. */
int store_sqlite_open(const char *path, store_t **out, const char **err);

/* store_pg_open connects a pool of sessions to the PostgreSQL database named by
 * conninfo (a postgresql:// URI or a libpq keyword string, passed to libpq whole) and
 * applies pending schema migrations under an advisory lock. Returns 0 with *out set
 * (free with store_close), ODS_E_UNAVAILABLE (cannot connect), ODS_E_STORE (migration
 * failed, schema newer than this build, synchronous_commit off) or ODS_E_NOMEM, with
 * *err (when non-NULL) set to a thread-local one-line reason. */
int store_pg_open(const char *conninfo, store_t **out, const char **err);

/* store_err_set formats the thread-local reason handed back through store_open's *err
 * and returns it; never NULL. Long reasons are truncated. */
const char *store_err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* store_text_fit returns how many bytes of s fit a field of max bytes with its NUL, cut
 * before a UTF-8 continuation byte so the kept prefix stays valid text. */
size_t store_text_fit(const char *s, size_t max);

/* One write store_findings_write owes a stored finding. */
enum finding_op {
    FINDING_PUT,    /* insert, or (held) refresh its content and reopen it if fixed */
    FINDING_CLOSE,  /* open but no longer assessed: fixed now */
};
struct finding_change {
    enum finding_op       op;
    const struct finding *f;    /* PUT: the assessed finding; CLOSE: the stored one */
};

/* findings_diff compares an asset's open findings as stored with its new assessment,
 * both sorted by (advisory, package) and merged, and lists what to write: PUT for an
 * assessed finding not open (new, or fixed and back) or open with other content
 * (aliases, versions, severity, score); CLOSE for an open one no longer assessed.
 * Unchanged findings get no entry: the caller moves the last seen time of every open
 * finding with one statement. A key assessed twice counts once, the last. The pointers
 * in *out point into open and now. Caller frees *out. Returns 0 or ODS_E_NOMEM. */
int findings_diff(const struct finding *open, size_t nopen, const struct finding *now,
    size_t nnow, struct finding_change **out, size_t *n);

/* store_key_check tells whether key k may enroll one more agent at now: 0, or
 * ODS_E_PERM with *why set to a static reason (revoked, expired, no uses left). */
int store_key_check(const struct actkey *k, int64_t now, const char **why);
/* store_enrollment_asset fills *a, the asset an enrollment with key k creates (zeroed
 * first; created/updated = e->now_ms). ODS_E_INVAL when a string does not fit. */
int store_enrollment_asset(const struct enrollment *e, const struct actkey *k, struct asset *a);

#endif
