/* committer.c - one thread turning many concurrent store operations into one durable
 * transaction. While a batch is being committed, new items queue up and form the next
 * batch, so the number of fsyncs per second stays flat as load grows and throughput
 * rises with concurrency. */
#include "committer.h"
#include "err.h"
#include "log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define STATS_EVERY_NS  5000000000LL   /* debug line with batch figures this often */

/* What the committer did since its last debug line: enough to tell whether it is
 * busy writing (apply_ns near the interval) or waiting for work (small batches). */
struct commit_stats {
    int64_t  since_ns;
    uint64_t batches;
    uint64_t items;
    uint64_t ops;
    uint64_t max_ops;
    int64_t  apply_ns;     /* inside store_apply: statements, write and fsync */
};

struct committer {
    store_t            *store;
    size_t              batch_max;     /* operations per transaction */
    commit_prepare_fn   prepare;
    commit_hook_fn      hook;
    void               *hook_ctx;
    pthread_t           thread;
    pthread_mutex_t     lock;
    pthread_cond_t      wake;
    struct commit_item *head, *tail;   /* FIFO of submitted items */
    bool                stopping;
    bool                joined;
    struct store_op    *ops;           /* scratch: ops_cap operations */
    size_t              ops_cap;
    struct commit_item **items;        /* scratch: 2 * batch_max items */
    struct commit_stats stats;
};

static int64_t
mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* stats_note counts one committed batch and logs the interval's figures when due. */
static void
stats_note(committer_t *c, size_t n, size_t nops, int64_t apply_ns)
{
    struct commit_stats *st = &c->stats;
    int64_t now = mono_ns();

    st->batches++;
    st->items += n;
    st->ops += nops;
    st->apply_ns += apply_ns;
    if (nops > st->max_ops)
        st->max_ops = nops;
    if (now - st->since_ns < STATS_EVERY_NS)
        return;
    double secs = (double)(now - st->since_ns) / 1e9;
    log_debug("%s: %.1f s: %llu batches, %.1f items and %.1f ops per batch (max %llu), "
        "%.2f ms per store_apply, writing %.0f %% of the time", __func__, secs,
        (unsigned long long)st->batches, (double)st->items / (double)st->batches,
        (double)st->ops / (double)st->batches, (unsigned long long)st->max_ops,
        (double)st->apply_ns / 1e6 / (double)st->batches,
        100.0 * (double)st->apply_ns / 1e9 / secs);
    *st = (struct commit_stats){ .since_ns = now };
}

/* take_batch detaches items worth up to batch_max operations (a single bigger item
 * alone), and every audit item met on the way, from the queue; call with the lock
 * held. */
static size_t
take_batch(committer_t *c, struct commit_item **audits)
{
    size_t n = 0, ops = 0;

    *audits = NULL;
    while (c->head != NULL) {
        struct commit_item *it = c->head;
        if (it->audit == NULL && n > 0 && (ops + it->nops > c->batch_max || n == c->batch_max))
            break;
        c->head = it->next;
        if (c->head == NULL)
            c->tail = NULL;
        if (it->audit != NULL) {
            it->next = *audits;
            *audits = it;
            continue;
        }
        c->items[n++] = it;
        ops += it->nops;
    }
    return n;
}

static void
write_audits(committer_t *c, struct commit_item *audits)
{
    while (audits != NULL) {
        struct commit_item *next = audits->next;
        int rc = store_audit_add(c->store, audits->audit);
        if (rc != 0)
            log_error("%s: audit entry lost: %s", __func__, err_msg(rc));
        free(audits->audit);
        free(audits);
        audits = next;
    }
}

/* gather copies the operations of items[0..n) into the scratch array, growing it when
 * one big item (a bulk launch) needs more room. Returns the count, or 0 on no memory. */
static size_t
gather(committer_t *c, size_t n)
{
    size_t nops = 0, k = 0;

    for (size_t i = 0; i < n; i++)
        nops += c->items[i]->nops;
    if (nops > c->ops_cap) {
        struct store_op *bigger = realloc(c->ops, nops * sizeof(*bigger));
        if (bigger == NULL)
            return 0;
        c->ops = bigger;
        c->ops_cap = nops;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c->items[i]->nops; j++)
            c->ops[k++] = c->items[i]->ops[j];
    return nops;
}

static void
commit_batch(committer_t *c, size_t n)
{
    size_t nops = gather(c, n);

    if (nops > 0 && c->prepare != NULL) {
        /* the batch's own operations are final: extras go after them */
        n += c->prepare(c->hook_ctx, c->ops, nops, c->items + n, 2 * c->batch_max - n);
        nops = gather(c, n);
    }
    if (nops == 0) {
        log_error("%s: no memory for a batch of %zu items", __func__, n);
        for (size_t i = 0; i < n; i++)
            c->items[i]->done(c->items[i], ODS_E_NOMEM);
        return;
    }
    int64_t t0 = mono_ns();
    int rc = store_apply(c->store, c->ops, nops);
    stats_note(c, n, nops, mono_ns() - t0);
    if (rc != 0)
        log_error("%s: batch of %zu operations not committed: %s", __func__, nops, err_msg(rc));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct commit_item *it = c->items[i];
        for (size_t j = 0; j < it->nops; j++)
            it->ops[j] = c->ops[k++];
    }
    /* Callbacks may resubmit their item: read nothing of an item after its callback. */
    for (size_t i = 0; i < n; i++)
        c->items[i]->done(c->items[i], rc);
    if (rc == 0 && c->hook != NULL)
        c->hook(c->hook_ctx, c->ops, nops);
}

static void *
committer_main(void *arg)
{
    committer_t *c = arg;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (c->head == NULL && !c->stopping)
            pthread_cond_wait(&c->wake, &c->lock);
        if (c->head == NULL && c->stopping)
            break;
        struct commit_item *audits;
        size_t n = take_batch(c, &audits);
        pthread_mutex_unlock(&c->lock);
        if (n > 0)
            commit_batch(c, n);
        write_audits(c, audits);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int
committer_start(store_t *st, size_t batch_max, commit_prepare_fn prepare,
    commit_hook_fn hook, void *hook_ctx, committer_t **out)
{
    int rc = ODS_E_NOMEM;
    committer_t *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return ODS_E_NOMEM;
    c->store = st;
    c->batch_max = batch_max < COMMIT_OPS_INLINE ? COMMIT_OPS_INLINE : batch_max;
    c->ops_cap = c->batch_max;
    c->prepare = prepare;
    c->hook = hook;
    c->hook_ctx = hook_ctx;
    c->stats.since_ns = mono_ns();
    c->ops = calloc(c->batch_max, sizeof(*c->ops));
    c->items = calloc(2 * c->batch_max, sizeof(*c->items));
    if (c->ops == NULL || c->items == NULL)
        goto fail;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        rc = ODS_E_IO;
        goto fail;
    }
    *out = c;
    return ODS_E_OK;
fail:
    free(c->ops);
    free(c->items);
    free(c);
    return rc;
}

int
committer_submit(committer_t *c, struct commit_item *item)
{
    int rc = ODS_E_OK;

    item->next = NULL;
    if (item->ops == NULL)
        item->ops = item->own;
    pthread_mutex_lock(&c->lock);
    if (c->stopping) {
        rc = ODS_E_SHUTDOWN;
    } else {
        if (c->tail != NULL)
            c->tail->next = item;
        else
            c->head = item;
        c->tail = item;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void
committer_stop(committer_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (!c->joined)
        pthread_join(c->thread, NULL);
    c->joined = true;
}

void
committer_free(committer_t *c)
{
    if (c == NULL)
        return;
    committer_stop(c);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c->ops);
    free(c->items);
    free(c);
}
