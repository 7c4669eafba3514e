/* store.c - the public storage interface: picks a backend from the URL given to
 * store_open and forwards every other call through that backend's operation table. */
#include "store_impl.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STORE_ERR_MAX 512

static _Thread_local char err_reason[STORE_ERR_MAX];

/* How a URL names its backend. A prefix match picks the row; strip says whether the
 * backend gets the URL without its prefix (a path) or whole (a libpq URI). */
static const struct {
    const char *prefix;
    bool        strip;
    int (*open)(const char *url, store_t **out, const char **err);
} backends[] = {
    { "sqlite:",        true,  store_sqlite_open },
    { "postgresql://",  false, store_pg_open },
    { "postgres://",    false, store_pg_open },
};

/* Words that start a libpq "key=value ..." connection string. */
static const char *const libpq_keys[] = {
    "host=", "hostaddr=", "dbname=", "user=", "port=", "service=", "sslmode=",
};

const char *
store_err_set(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int len = vsnprintf(err_reason, sizeof(err_reason), fmt, ap);
    va_end(ap);
    if (len < 0)
        err_reason[0] = '\0';
    /* a truncated reason is still a useful reason: vsnprintf NUL-terminated it */
    return err_reason;
}

static bool
is_libpq_keywords(const char *url)
{
    const char *p = url + strspn(url, " \t");

    for (size_t i = 0; i < sizeof(libpq_keys) / sizeof(libpq_keys[0]); i++)
        if (strncmp(p, libpq_keys[i], strlen(libpq_keys[i])) == 0)
            return true;
    return false;
}

int
store_open(const char *url, store_t **out, const char **err)
{
    *out = NULL;
    if (url == NULL || *url == '\0') {
        if (err != NULL)
            *err = store_err_set("empty database URL");
        return ODS_E_INVAL;
    }
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        size_t plen = strlen(backends[i].prefix);
        if (strncmp(url, backends[i].prefix, plen) != 0)
            continue;
        return backends[i].open(backends[i].strip ? url + plen : url, out, err);
    }
    if (is_libpq_keywords(url))
        return store_pg_open(url, out, err);
    return store_sqlite_open(url, out, err);
}

void
store_close(store_t *st)
{
    if (st != NULL)
        st->ops->close(st);
}

int
store_launch_batch(store_t *st, struct launch *items, size_t n)
{
    return st->ops->launch_batch(st, items, n);
}

int
store_job_get(store_t *st, int64_t id, struct job *out)
{
    return st->ops->job_get(st, id, out);
}

int
store_job_list(store_t *st, int64_t asset_id, struct job **out, size_t *n)
{
    return st->ops->job_list(st, asset_id, out, n);
}

int
store_user_add(store_t *st, const char *name, const char *pwhash, int role)
{
    return st->ops->user_add(st, name, pwhash, role);
}

int
store_user_get(store_t *st, const char *name, struct user *out)
{
    return st->ops->user_get(st, name, out);
}

int
store_user_list(store_t *st, struct user **out, size_t *n)
{
    return st->ops->user_list(st, out, n);
}

int
store_user_set_password(store_t *st, const char *name, const char *pwhash)
{
    return st->ops->user_set_password(st, name, pwhash);
}

int
store_user_set_role(store_t *st, const char *name, int role)
{
    return st->ops->user_set_role(st, name, role);
}

int
store_user_del(store_t *st, const char *name)
{
    return st->ops->user_del(st, name);
}

int
store_user_login_failed(store_t *st, const char *name, int64_t now, int64_t window_ms,
    int max_failures, int64_t lock_ms, bool *locked)
{
    return st->ops->user_login_failed(st, name, now, window_ms, max_failures, lock_ms,
        locked);
}

int
store_user_login_ok(store_t *st, const char *name)
{
    return st->ops->user_login_ok(st, name);
}

int
store_auth_epoch(store_t *st, int64_t *out)
{
    return st->ops->auth_epoch(st, out);
}

int
store_asset_add(store_t *st, const struct asset *a)
{
    return st->ops->asset_add(st, a);
}

int
store_asset_get(store_t *st, int64_t id, struct asset *out)
{
    return st->ops->asset_get(st, id, out);
}

int
store_asset_list(store_t *st, struct asset **out, size_t *n)
{
    return st->ops->asset_list(st, out, n);
}

int
store_audit_add(store_t *st, const struct audit_entry *e)
{
    return st->ops->audit_add(st, e);
}

int
store_audit_list(store_t *st, size_t limit, struct audit_entry **out, size_t *n)
{
    return st->ops->audit_list(st, limit, out, n);
}

int
store_key_add(store_t *st, struct actkey *k)
{
    return st->ops->key_add(st, k);
}

int
store_key_list(store_t *st, struct actkey **out, size_t *n)
{
    return st->ops->key_list(st, out, n);
}

int
store_key_revoke(store_t *st, const char *token_or_name)
{
    return st->ops->key_revoke(st, token_or_name);
}

int
store_key_get_id(store_t *st, int64_t id, struct actkey *out)
{
    return st->ops->key_get_id(st, id, out);
}

int
store_key_update(store_t *st, const struct actkey *k)
{
    return st->ops->key_update(st, k);
}

int
store_key_del(store_t *st, int64_t id)
{
    return st->ops->key_del(st, id);
}

int
store_key_set_tags(store_t *st, int64_t key_id, const int64_t *tag_ids, size_t n)
{
    return st->ops->key_set_tags(st, key_id, tag_ids, n);
}

int
store_key_tags(store_t *st, int64_t key_id, struct tag **out, size_t *n)
{
    return st->ops->key_tags(st, key_id, out, n);
}

int
store_tag_add(store_t *st, struct tag *t)
{
    return st->ops->tag_add(st, t);
}

int
store_tag_get(store_t *st, const char *name, struct tag *out)
{
    return st->ops->tag_get(st, name, out);
}

int
store_tag_get_id(store_t *st, int64_t id, struct tag *out)
{
    return st->ops->tag_get_id(st, id, out);
}

int
store_tag_list(store_t *st, const char *name_contains, struct tag **out, size_t *n)
{
    return st->ops->tag_list(st, name_contains, out, n);
}

int
store_tag_rename(store_t *st, int64_t id, const char *new_name)
{
    return st->ops->tag_rename(st, id, new_name);
}

int
store_tag_del(store_t *st, int64_t id)
{
    return st->ops->tag_del(st, id);
}

int
store_tag_assign(store_t *st, int64_t tag_id, int64_t asset_id)
{
    return st->ops->tag_assign(st, tag_id, asset_id);
}

int
store_tag_unassign(store_t *st, int64_t tag_id, int64_t asset_id)
{
    return st->ops->tag_unassign(st, tag_id, asset_id);
}

int
store_asset_tags(store_t *st, int64_t asset_id, struct tag **out, size_t *n)
{
    return st->ops->asset_tags(st, asset_id, out, n);
}

int
store_kb_import(store_t *st, const struct kb_record *recs, size_t n, struct kb_counts *out)
{
    return st->ops->kb_import(st, recs, n, out);
}

int
store_kb_epoch(store_t *st, int64_t *out)
{
    return st->ops->kb_epoch(st, out);
}

int
store_kb_count(store_t *st, size_t *n)
{
    return st->ops->kb_count(st, n);
}

int
store_kb_each(store_t *st, store_advisory_fn fn, void *arg)
{
    return st->ops->kb_each(st, fn, arg);
}

int
store_kb_claim(store_t *st, int64_t epoch, bool *mine)
{
    return st->ops->kb_claim(st, epoch, mine);
}

int
store_manifest_get(store_t *st, int64_t asset_id, char **json, size_t *len, char *hash,
    int64_t *scanned_ms)
{
    return st->ops->manifest_get(st, asset_id, json, len, hash, scanned_ms);
}

int
store_manifest_assets(store_t *st, int64_t **ids, size_t *n)
{
    return st->ops->manifest_assets(st, ids, n);
}

int
store_vuln_last_scan(store_t *st, int64_t asset_id, int64_t *ms)
{
    return st->ops->vuln_last_scan(st, asset_id, ms);
}

int
store_findings_write(store_t *st, const struct asset_findings *items, size_t n, int64_t now)
{
    return st->ops->findings_write(st, items, n, now);
}

int
store_findings_list(store_t *st, const struct finding_query *q, struct finding **out, size_t *n)
{
    if (q->asset_id <= 0 && (q->vuln_id == NULL || q->vuln_id[0] == '\0'))
        return ODS_E_INVAL;
    return st->ops->findings_list(st, q, out, n);
}

int
store_findings_summary(store_t *st, struct severity_count **out, size_t *n,
    size_t *assets_affected, size_t *assets_scanned)
{
    return st->ops->findings_summary(st, out, n, assets_affected, assets_scanned);
}

int
store_user_set_scope(store_t *st, const char *user, const int64_t *tag_ids, size_t n)
{
    return st->ops->user_set_scope(st, user, tag_ids, n);
}

int
store_user_scope(store_t *st, const char *user, struct tag **out, size_t *n)
{
    return st->ops->user_scope(st, user, out, n);
}

int
store_user_set_limits(store_t *st, const char *user, const struct user_limits *l)
{
    return st->ops->user_set_limits(st, user, l);
}

int
store_user_limits(store_t *st, const char *user, struct user_limits *out)
{
    return st->ops->user_limits(st, user, out);
}

int
store_enroll(store_t *st, const struct enrollment *e, struct asset *asset, const char **why)
{
    return st->ops->enroll(st, e, asset, why);
}

int
store_agent_get(store_t *st, const char *uuid, struct agent *out)
{
    return st->ops->agent_get(st, uuid, out);
}

int
store_profile_add(store_t *st, struct profile *p)
{
    return st->ops->profile_add(st, p);
}

int
store_profile_list(store_t *st, struct profile **out, size_t *n)
{
    return st->ops->profile_list(st, out, n);
}

int
store_profile_get(store_t *st, const char *name, struct profile *out)
{
    return st->ops->profile_get(st, name, out);
}

int
store_profile_assign(store_t *st, int64_t asset_id, const char *profile_name)
{
    return st->ops->profile_assign(st, asset_id, profile_name);
}

int
store_profile_for_asset(store_t *st, int64_t asset_id, struct profile *out)
{
    return st->ops->profile_for_asset(st, asset_id, out);
}

int
store_apply(store_t *st, struct store_op *ops, size_t n)
{
    return st->ops->apply(st, ops, n);
}

int
store_jobs_sweep(store_t *st, int64_t now, int64_t expire_ms, size_t *requeued,
    size_t *expired, int64_t *requeued_assets, size_t cap, size_t *n_assets)
{
    return st->ops->jobs_sweep(st, now, expire_ms, requeued, expired, requeued_assets, cap,
        n_assets);
}

int
store_result_get(store_t *st, int64_t job_id, char **json, size_t *len)
{
    return st->ops->result_get(st, job_id, json, len);
}

int
store_inventory_get(store_t *st, int64_t asset_id, char **json, size_t *len,
    int64_t *job_id, int64_t *collected_ms)
{
    return st->ops->inventory_get(st, asset_id, json, len, job_id, collected_ms);
}

int
store_inventory_history(store_t *st, int64_t asset_id, int64_t *at, size_t cap, size_t *n)
{
    return st->ops->inventory_history(st, asset_id, at, cap, n);
}

int
store_watch_jobs(store_t *st, store_job_event_fn cb, void *ctx)
{
    if (st->ops->watch_jobs == NULL)
        return ODS_E_UNSUPPORTED;
    return st->ops->watch_jobs(st, cb, ctx);
}

int
store_asset_search(store_t *st, const struct asset_query *q, int64_t **ids, size_t *n,
    bool *more)
{
    return st->ops->asset_search(st, q, ids, n, more);
}

int
store_asset_count(store_t *st, const struct asset_query *q, size_t *n)
{
    return st->ops->asset_count(st, q, n);
}

int
store_asset_set_modules(store_t *st, const int64_t *ids, size_t n, unsigned on,
    unsigned off, const char **why)
{
    return st->ops->asset_set_modules(st, ids, n, on, off, why);
}

