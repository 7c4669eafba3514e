/* dispatch.c - waiting check-ins by asset id: an open-addressing hash table (linear
 * probing, backward-shift deletion) under one mutex. Wake-ups are collected under the
 * lock and delivered after it is released, so a callback may call back into the hub. */
#include "dispatch.h"
#include "err.h"

#include <pthread.h>
#include <stdlib.h>

#define WAKE_BATCH 256

struct slot {
    int64_t asset_id;           /* 0: empty */
    void   *waiter;
    int64_t deadline_ms;
};

struct dispatch {
    pthread_mutex_t  lock;
    dispatch_wake_fn wake;
    struct slot     *slots;
    size_t           cap;       /* power of two */
    size_t           count;
    bool             closed;
};

struct pending { void *waiter; enum wake_reason why; };

static size_t
hash_id(int64_t id, size_t cap)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

int
dispatch_new(dispatch_wake_fn wake, dispatch_t **out)
{
    dispatch_t *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return ODS_E_NOMEM;
    d->cap = 1024;
    d->slots = calloc(d->cap, sizeof(*d->slots));
    if (d->slots == NULL) {
        free(d);
        return ODS_E_NOMEM;
    }
    d->wake = wake;
    pthread_mutex_init(&d->lock, NULL);
    *out = d;
    return ODS_E_OK;
}

void
dispatch_free(dispatch_t *d)
{
    if (d == NULL)
        return;
    pthread_mutex_destroy(&d->lock);
    free(d->slots);
    free(d);
}

static struct slot *
find(dispatch_t *d, int64_t asset_id)
{
    for (size_t i = hash_id(asset_id, d->cap);; i = (i + 1) & (d->cap - 1)) {
        if (d->slots[i].asset_id == asset_id)
            return &d->slots[i];
        if (d->slots[i].asset_id == 0)
            return NULL;
    }
}

/* remove_at deletes slot i and shifts later members of its probe run back. */
static void
remove_at(dispatch_t *d, size_t i)
{
    size_t mask = d->cap - 1;

    d->slots[i].asset_id = 0;
    d->count--;
    for (size_t j = (i + 1) & mask; d->slots[j].asset_id != 0; j = (j + 1) & mask) {
        size_t home = hash_id(d->slots[j].asset_id, d->cap);
        /* move j into the hole when its home lies cyclically outside (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            d->slots[i] = d->slots[j];
            d->slots[j].asset_id = 0;
            i = j;
        }
    }
}

static int
grow(dispatch_t *d)
{
    size_t old_cap = d->cap;
    struct slot *old = d->slots;
    struct slot *fresh = calloc(old_cap * 2, sizeof(*fresh));

    if (fresh == NULL)
        return ODS_E_NOMEM;
    d->slots = fresh;
    d->cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].asset_id == 0)
            continue;
        size_t j = hash_id(old[i].asset_id, d->cap);
        while (d->slots[j].asset_id != 0)
            j = (j + 1) & (d->cap - 1);
        d->slots[j] = old[i];
    }
    free(old);
    return ODS_E_OK;
}

int
dispatch_wait(dispatch_t *d, int64_t asset_id, void *waiter, int64_t deadline_ms)
{
    void *replaced = NULL;
    int rc = ODS_E_OK;

    pthread_mutex_lock(&d->lock);
    if (d->closed) {
        rc = ODS_E_SHUTDOWN;
        goto out;
    }
    struct slot *s = find(d, asset_id);
    if (s != NULL) {
        replaced = s->waiter;
    } else {
        if ((d->count + 1) * 2 > d->cap && (rc = grow(d)) != 0)
            goto out;
        size_t i = hash_id(asset_id, d->cap);
        while (d->slots[i].asset_id != 0)
            i = (i + 1) & (d->cap - 1);
        s = &d->slots[i];
        s->asset_id = asset_id;
        d->count++;
    }
    s->waiter = waiter;
    s->deadline_ms = deadline_ms;
out:
    pthread_mutex_unlock(&d->lock);
    if (replaced != NULL)
        d->wake(replaced, WAKE_REPLACED);
    return rc;
}

void *
dispatch_take(dispatch_t *d, int64_t asset_id)
{
    void *waiter = NULL;

    pthread_mutex_lock(&d->lock);
    struct slot *s = find(d, asset_id);
    if (s != NULL) {
        waiter = s->waiter;
        remove_at(d, (size_t)(s - d->slots));
    }
    pthread_mutex_unlock(&d->lock);
    return waiter;
}

void
dispatch_notify(dispatch_t *d, int64_t asset_id)
{
    void *waiter = dispatch_take(d, asset_id);

    if (waiter != NULL)
        d->wake(waiter, WAKE_JOB);
}

/* take_matching removes up to WAKE_BATCH waiters (all when `all`, else the expired
 * ones) into out[]; returns how many. */
static size_t
take_matching(dispatch_t *d, bool all, int64_t now_ms, struct pending *out, enum wake_reason why)
{
    size_t n = 0;

    for (size_t i = 0; i < d->cap && n < WAKE_BATCH;) {
        struct slot *s = &d->slots[i];
        if (s->asset_id != 0 && (all || s->deadline_ms <= now_ms)) {
            out[n].waiter = s->waiter;
            out[n].why = why;
            n++;
            remove_at(d, i);     /* a later slot may have moved into i: look again */
            continue;
        }
        i++;
    }
    return n;
}

static void
wake_matching(dispatch_t *d, bool all, int64_t now_ms, enum wake_reason why)
{
    struct pending batch[WAKE_BATCH];
    size_t n;

    do {
        pthread_mutex_lock(&d->lock);
        if (all && why == WAKE_SHUTDOWN)
            d->closed = true;
        n = take_matching(d, all, now_ms, batch, why);
        pthread_mutex_unlock(&d->lock);
        for (size_t i = 0; i < n; i++)
            d->wake(batch[i].waiter, batch[i].why);
    } while (n == WAKE_BATCH);
}

void
dispatch_expire(dispatch_t *d, int64_t now_ms)
{
    wake_matching(d, false, now_ms, WAKE_TIMEOUT);
}

void
dispatch_notify_all(dispatch_t *d)
{
    /* Woken waiters claim again and may register anew while this runs; a waiter
     * registered after its wake-up is simply woken once more, which is harmless. */
    wake_matching(d, true, 0, WAKE_JOB);
}

void
dispatch_close(dispatch_t *d)
{
    wake_matching(d, true, 0, WAKE_SHUTDOWN);
}

size_t
dispatch_count(dispatch_t *d)
{
    pthread_mutex_lock(&d->lock);
    size_t n = d->count;
    pthread_mutex_unlock(&d->lock);
    return n;
}
