/* assess.c - the assessment thread and the functions it is built from (assess.h). */
#include "assess.h"
#include "err.h"
#include "log.h"
#include "manifest.h"
#include "osv.h"
#include "util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FINDINGS_FIRST 32

struct assessor {
    store_t          *store;
    pthread_t         thread;
    bool              running;
    pthread_mutex_t   lock;
    pthread_cond_t    wake;
    bool              stop;
    int64_t          *queue;        /* asset ids waiting, each once */
    size_t            nqueue, capqueue;
    /* owned by the thread */
    struct advisory_set set;
    struct matcher   *matcher;
    int64_t           epoch;        /* of the matcher; -1 before the first build */
};

/* Urgency words of the sources (Debian tracker, Ubuntu priorities) and their level. */
static const struct {
    const char *word;
    const char *severity;
} urgencies[] = {
    { "critical", "CRITICAL" }, { "high", "HIGH" }, { "important", "HIGH" },
    { "medium", "MEDIUM" }, { "moderate", "MEDIUM" }, { "low", "LOW" },
    { "negligible", "LOW" }, { "unimportant", "LOW" },
};

const char *
assess_severity(const struct vuln_severity *sev)
{
    if (sev != NULL && sev->score10 >= 0) {
        if (sev->score10 >= 90)
            return "CRITICAL";
        if (sev->score10 >= 70)
            return "HIGH";
        if (sev->score10 >= 40)
            return "MEDIUM";
        return sev->score10 > 0 ? "LOW" : "NONE";
    }
    if (sev != NULL && sev->urgency != NULL) {
        /* "medium**": the tracker marks unconfirmed urgencies with asterisks */
        size_t len = strcspn(sev->urgency, "*");
        for (size_t i = 0; i < sizeof(urgencies) / sizeof(urgencies[0]); i++)
            if (strlen(urgencies[i].word) == len &&
                strncasecmp(sev->urgency, urgencies[i].word, len) == 0)
                return urgencies[i].severity;
    }
    return "UNKNOWN";
}

/* ---- one manifest ----------------------------------------------------------------- */

struct collect {
    struct finding *items;
    size_t          n, cap;
    int             rc;
};

/* join_aliases writes the advisory's aliases comma-separated, cut at a comma. */
static void
join_aliases(const struct advisory *adv, char *dst, size_t n)
{
    size_t used = 0;

    dst[0] = '\0';
    for (size_t i = 0; i < adv->n_aliases; i++) {
        size_t len = strlen(adv->aliases[i]);
        if (used + len + (used > 0) + 1 > n)
            break;
        if (used > 0)
            dst[used++] = ',';
        memcpy(dst + used, adv->aliases[i], len + 1);
        used += len;
    }
}

static int
on_finding(const struct matcher_finding *mf, void *arg)
{
    struct collect *c = arg;
    struct finding *f;

    if (c->n == c->cap) {
        size_t cap = c->cap != 0 ? c->cap * 2 : FINDINGS_FIRST;
        struct finding *grown = reallocarray(c->items, cap, sizeof(*grown));
        if (grown == NULL)
            return ODS_E_NOMEM;
        c->items = grown;
        c->cap = cap;
    }
    f = &c->items[c->n++];
    memset(f, 0, sizeof(*f));
    /* writers and the store cut over-long text; ids and names fit by the vuln limits */
    str_copy(f->advisory_id, sizeof(f->advisory_id), mf->advisory->id);
    join_aliases(mf->advisory, f->aliases, sizeof(f->aliases));
    str_copy(f->package, sizeof(f->package), mf->package);
    str_copy(f->installed_version, sizeof(f->installed_version), mf->installed_version);
    str_copy(f->fixed_version, sizeof(f->fixed_version),
        mf->fixed_version != NULL ? mf->fixed_version : "");
    str_copy(f->severity, sizeof(f->severity), assess_severity(mf->severity));
    f->score10 = mf->severity != NULL ? mf->severity->score10 : -1;
    return ODS_E_OK;
}

static int
finding_key_cmp(const void *a, const void *b)
{
    const struct finding *x = a, *y = b;
    int c = strcmp(x->advisory_id, y->advisory_id);

    return c != 0 ? c : strcmp(x->package, y->package);
}

/* dedupe keeps one finding per (advisory, package): every binary package of one source
 * package gives the same Debian finding. */
static size_t
dedupe(struct finding *f, size_t n)
{
    size_t out = 0;

    if (n == 0)
        return 0;
    qsort(f, n, sizeof(*f), finding_key_cmp);
    for (size_t i = 1; i < n; i++)
        if (finding_key_cmp(&f[out], &f[i]) != 0)
            f[++out] = f[i];
    return out + 1;
}

int
assess_document(const struct matcher *m, const char *json, size_t len,
    struct finding **out, size_t *n)
{
    struct manifest man = { 0 };
    struct matcher_package *pkgs = NULL;
    struct collect c = { 0 };
    char eco[MANIFEST_ECOSYSTEM_MAX], why[128];
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    int rc;

    *out = NULL;
    *n = 0;
    if (doc == NULL)
        return ODS_E_PARSE;
    if ((rc = manifest_read(doc, &man, why, sizeof(why))) != ODS_E_OK || man.hash_only) {
        rc = rc != ODS_E_OK ? rc : ODS_E_PARSE;
        goto out;
    }
    if ((rc = manifest_ecosystem(man.os_id, man.os_version, eco, sizeof(eco))) != ODS_E_OK)
        goto out;
    if (man.n > 0 && (pkgs = calloc(man.n, sizeof(*pkgs))) == NULL) {
        rc = ODS_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < man.n; i++)
        pkgs[i] = (struct matcher_package){ man.packages[i].name, man.packages[i].version,
            man.packages[i].source, man.packages[i].source_version };
    rc = matcher_assess(m, eco, pkgs, man.n, on_finding, &c, NULL);
    if (rc == ODS_E_INVAL)
        rc = ODS_E_UNSUPPORTED;
    if (rc != ODS_E_OK)
        goto out;
    *n = dedupe(c.items, c.n);
    *out = c.items;
    c.items = NULL;
out:
    free(c.items);
    free(pkgs);
    manifest_free(&man);
    json_decref(doc);
    return rc;
}

/* ---- the fleet -------------------------------------------------------------------- */

int
assess_assets(store_t *st, const struct matcher *m, const int64_t *ids, size_t n,
    int64_t now, size_t *done)
{
    struct asset_findings batch[ASSESS_BATCH];
    size_t written = 0;
    int rc = ODS_E_OK;

    for (size_t at = 0; at < n && rc == ODS_E_OK; at += ASSESS_BATCH) {
        size_t k = 0;
        for (size_t i = at; i < n && i < at + ASSESS_BATCH; i++) {
            struct finding *f = NULL;
            size_t nf = 0, len = 0;
            char *json = NULL;

            int got = store_manifest_get(st, ids[i], &json, &len, NULL, NULL);
            if (got == ODS_E_NOTFOUND)
                continue;
            if (got != ODS_E_OK) {
                rc = got;
                break;
            }
            got = assess_document(m, json, len, &f, &nf);
            free(json);
            if (got == ODS_E_NOMEM) {
                rc = got;
                break;
            }
            if (got == ODS_E_PARSE)
                log_warn("%s: asset %lld: stored manifest unreadable; not assessed", __func__,
                    (long long)ids[i]);
            if (got != ODS_E_OK && got != ODS_E_UNSUPPORTED)
                continue;
            /* an OS we cannot assess has no findings: any old ones are closed */
            batch[k++] = (struct asset_findings){ ids[i], f, nf };
        }
        if (rc == ODS_E_OK && k > 0 && (rc = store_findings_write(st, batch, k, now)) == ODS_E_OK)
            written += k;
        for (size_t i = 0; i < k; i++)
            free((void *)batch[i].findings);
    }
    if (done != NULL)
        *done = written;
    return rc;
}

struct kb_walk {
    struct advisory_set *set;
    size_t               bad;
};

static int
kb_add(void *arg, const char *id, const char *document, size_t len)
{
    struct kb_walk *w = arg;
    struct advisory *adv = NULL;
    char why[OSV_WHY_MAX];
    int rc = osv_parse(document, len, &adv, why, sizeof(why));

    (void)id;
    if (rc == ODS_E_NOMEM)
        return rc;
    if (rc != ODS_E_OK) {
        w->bad++;
        return ODS_E_OK;
    }
    return advisory_set_add(w->set, adv);
}

int
assess_kb_load(store_t *st, struct advisory_set *set, struct matcher **m, size_t *bad)
{
    struct kb_walk w = { set, 0 };
    int rc;

    *m = NULL;
    if ((rc = store_kb_each(st, kb_add, &w)) == ODS_E_OK)
        rc = matcher_build(set, m);
    *bad = w.bad;
    return rc;
}

/* ---- the thread ------------------------------------------------------------------- */

/* kb_refresh rebuilds the matcher when kb_epoch moved, then re-assesses the fleet when
 * this node wins the claim for the new epoch. */
static void
kb_refresh(struct assessor *a)
{
    struct advisory_set set;
    struct matcher *m = NULL;
    int64_t epoch = 0, t0;
    size_t bad = 0, entries = 0, groups = 0;
    bool mine = false;
    int rc;

    if ((rc = store_kb_epoch(a->store, &epoch)) != ODS_E_OK || epoch == a->epoch)
        return;
    t0 = mono_ms();
    advisory_set_init(&set);
    if ((rc = assess_kb_load(a->store, &set, &m, &bad)) != ODS_E_OK) {
        log_warn("%s: cannot load the knowledge base: %s", __func__, err_msg(rc));
        advisory_set_free(&set);
        return;
    }
    matcher_free(a->matcher);
    advisory_set_free(&a->set);
    a->set = set;
    a->matcher = m;
    a->epoch = epoch;
    matcher_count(m, &entries, &groups);
    log_info("%s: knowledge base epoch %lld: %zu advisories (%zu entries, %zu skipped) in %lld ms",
        __func__, (long long)epoch, set.n, entries, bad, (long long)(mono_ms() - t0));
    if (store_kb_claim(a->store, epoch, &mine) != ODS_E_OK || !mine)
        return;

    int64_t *ids = NULL;
    size_t n = 0, done = 0;
    t0 = mono_ms();
    if ((rc = store_manifest_assets(a->store, &ids, &n)) == ODS_E_OK)
        rc = assess_assets(a->store, a->matcher, ids, n, now_ms(), &done);
    free(ids);
    if (rc != ODS_E_OK)
        log_warn("%s: fleet re-assessment stopped after %zu assets: %s", __func__, done,
            err_msg(rc));
    else
        log_info("%s: re-assessed %zu assets in %lld ms", __func__, done,
            (long long)(mono_ms() - t0));
}

static void
deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *
assess_main(void *arg)
{
    struct assessor *a = arg;
    int64_t next_poll = 0;

    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        if (mono_ms() >= next_poll) {
            pthread_mutex_unlock(&a->lock);
            kb_refresh(a);
            pthread_mutex_lock(&a->lock);
            next_poll = mono_ms() + ASSESS_POLL_MS;
            continue;
        }
        if (a->nqueue > 0 && a->matcher != NULL) {
            int64_t ids[ASSESS_BATCH];
            size_t k = a->nqueue < ASSESS_BATCH ? a->nqueue : ASSESS_BATCH;
            memcpy(ids, a->queue, k * sizeof(ids[0]));
            memmove(a->queue, a->queue + k, (a->nqueue - k) * sizeof(ids[0]));
            a->nqueue -= k;
            pthread_mutex_unlock(&a->lock);
            int rc = assess_assets(a->store, a->matcher, ids, k, now_ms(), NULL);
            if (rc != ODS_E_OK)
                log_warn("%s: assessment of %zu asset(s) failed: %s", __func__, k, err_msg(rc));
            pthread_mutex_lock(&a->lock);
            continue;
        }
        struct timespec ts;
        deadline_in(&ts, next_poll - mono_ms());
        pthread_cond_timedwait(&a->wake, &a->lock, &ts);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

int
assessor_start(store_t *st, assessor_t **out)
{
    struct assessor *a = calloc(1, sizeof(*a));
    pthread_condattr_t ca;

    *out = NULL;
    if (a == NULL)
        return ODS_E_NOMEM;
    a->store = st;
    a->epoch = -1;
    advisory_set_init(&a->set);
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        free(a);
        return ODS_E_NOMEM;
    }
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&a->wake, &ca) != 0) {
        pthread_mutex_destroy(&a->lock);
        free(a);
        return ODS_E_NOMEM;
    }
    pthread_condattr_destroy(&ca);
    if (pthread_create(&a->thread, NULL, assess_main, a) != 0) {
        assessor_free(a);
        return ODS_E_IO;
    }
    a->running = true;
    *out = a;
    return ODS_E_OK;
}

void
assessor_enqueue(assessor_t *a, int64_t asset_id)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->nqueue; i++) {
        if (a->queue[i] == asset_id) {
            pthread_mutex_unlock(&a->lock);
            return;
        }
    }
    if (a->nqueue == a->capqueue && a->capqueue < ASSESS_QUEUE_MAX) {
        size_t cap = a->capqueue != 0 ? a->capqueue * 2 : 64;
        int64_t *grown = reallocarray(a->queue, cap, sizeof(*grown));
        if (grown != NULL) {
            a->queue = grown;
            a->capqueue = cap;
        }
    }
    if (a->nqueue < a->capqueue) {
        a->queue[a->nqueue++] = asset_id;
        pthread_cond_signal(&a->wake);
    } else {
        log_warn("%s: queue full; asset %lld waits for the next re-assessment", __func__,
            (long long)asset_id);
    }
    pthread_mutex_unlock(&a->lock);
}

void
assessor_stop(assessor_t *a)
{
    if (a == NULL || !a->running)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    a->running = false;
}

void
assessor_free(assessor_t *a)
{
    if (a == NULL)
        return;
    assessor_stop(a);
    matcher_free(a->matcher);
    advisory_set_free(&a->set);
    free(a->queue);
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
