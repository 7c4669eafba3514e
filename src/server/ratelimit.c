/* ratelimit.c - sliding-window rate and concurrency limits per (user, endpoint family).
 *
 * The window is the two-fixed-windows approximation: a count for the current fixed
 * window and one for the previous, the previous weighted by how much of it still
 * overlaps the sliding window (estimate = prev * (W - elapsed) / W + curr). Two
 * counters per entry whatever the window's length, exact at window edges and never
 * off by more than the previous window's spread. Entries live in a hash table with a
 * mutex per bucket; they are never freed before the limiter (their number is bounded
 * by users × families, and RATE_USERS_MAX past that). */
#include "ratelimit.h"
#include "err.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024                 /* power of two */

struct rate_entry {
    struct rate_entry *next;
    size_t             bucket;
    enum rate_family   fam;
    char               user[STORE_NAME_MAX];
    int64_t            window_ms;    /* the window the counts were made for */
    int64_t            start_ms;     /* start of the current fixed window */
    int64_t            prev, curr;   /* calls admitted in the previous / current window */
    unsigned           running;      /* admitted calls not yet completed */
};

struct bucket {
    pthread_mutex_t    lock;
    struct rate_entry *head;
};

struct ratelimit {
    struct rate_defaults defaults;
    struct bucket        buckets[BUCKETS];
    pthread_mutex_t      count_lock;
    size_t               entries;
};

static const char *const family_names[] = {
#define XX(name, text) text,
    RATE_FAMILY_TABLE(XX)
#undef XX
};

const char *
rate_family_name(enum rate_family fam)
{
    return (unsigned)fam < RATE_FAMILY_COUNT ? family_names[fam] : "other";
}

int
ratelimit_new(const struct rate_defaults *d, ratelimit_t **out)
{
    ratelimit_t *rl = calloc(1, sizeof(*rl));

    if (rl == NULL)
        return ODS_E_NOMEM;
    rl->defaults = *d;
    for (size_t i = 0; i < BUCKETS; i++)
        pthread_mutex_init(&rl->buckets[i].lock, NULL);
    pthread_mutex_init(&rl->count_lock, NULL);
    *out = rl;
    return ODS_E_OK;
}

void
ratelimit_free(ratelimit_t *rl)
{
    if (rl == NULL)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        struct rate_entry *e = rl->buckets[i].head;
        while (e != NULL) {
            struct rate_entry *next = e->next;
            free(e);
            e = next;
        }
        pthread_mutex_destroy(&rl->buckets[i].lock);
    }
    pthread_mutex_destroy(&rl->count_lock);
    free(rl);
}

/* FNV-1a over the user name and the family. */
static size_t
bucket_of(const char *user, enum rate_family fam)
{
    uint64_t h = 1469598103934665603ULL;

    for (const unsigned char *p = (const unsigned char *)user; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ (unsigned)fam) * 1099511628211ULL;
    return (size_t)(h & (BUCKETS - 1));
}

/* entry_find returns the entry of (user, fam) in bucket b, adding it when missing;
 * NULL without memory or past RATE_USERS_MAX. Called with b locked. */
static struct rate_entry *
entry_find(ratelimit_t *rl, struct bucket *b, size_t idx, const char *user, enum rate_family fam)
{
    struct rate_entry *e;
    bool room;

    for (e = b->head; e != NULL; e = e->next)
        if (e->fam == fam && strcmp(e->user, user) == 0)
            return e;
    pthread_mutex_lock(&rl->count_lock);
    room = rl->entries < RATE_USERS_MAX;
    if (room)
        rl->entries++;
    pthread_mutex_unlock(&rl->count_lock);
    if (!room || (e = calloc(1, sizeof(*e))) == NULL)
        return NULL;
    e->bucket = idx;
    e->fam = fam;
    (void)str_copy(e->user, sizeof(e->user), user);
    e->next = b->head;
    b->head = e;
    return e;
}

/* roll moves the entry's fixed windows up to now. */
static void
roll(struct rate_entry *e, int64_t now, int64_t w)
{
    if (e->window_ms != w || now - e->start_ms >= 2 * w || now < e->start_ms) {
        e->window_ms = w;
        e->start_ms = now;
        e->prev = e->curr = 0;
    } else if (now - e->start_ms >= w) {
        e->prev = e->curr;
        e->curr = 0;
        e->start_ms += w;
    }
}

/* wait_ms is how long from now until one more call fits: within the current window
 * when the previous window's share decays enough, else in the next one. */
static int64_t
wait_ms(const struct rate_entry *e, int64_t now, int64_t w, int64_t limit)
{
    int64_t el = now - e->start_ms, left = w - el;

    if (e->curr + 1 <= limit && e->prev > 0) {
        int64_t t = left - ((limit - e->curr - 1) * w) / e->prev;
        if (t < left)
            return t > 0 ? t : 0;
    }
    /* next window: prev' = curr, curr' = 0; need curr * (w - e2) + w <= limit * w */
    int64_t e2 = e->curr > 0 ? w - ((limit - 1) * w) / e->curr : 0;
    return left + (e2 > 0 ? e2 : 0);
}

void
ratelimit_admit(ratelimit_t *rl, const char *user, enum rate_family fam,
    const struct user_limits *own, int64_t now, struct rate_ticket *t)
{
    unsigned calls = own->calls > 0 ? (unsigned)own->calls : rl->defaults.calls;
    unsigned win = own->window_s > 0 ? (unsigned)own->window_s : rl->defaults.window_s;
    unsigned conc = own->concurrency > 0 ? (unsigned)own->concurrency : rl->defaults.concurrency;

    if (calls > RATE_CALLS_MAX)
        calls = RATE_CALLS_MAX;
    if (win > RATE_WINDOW_MAX_S)
        win = RATE_WINDOW_MAX_S;
    if (win == 0)
        win = 1;
    memset(t, 0, sizeof(*t));
    t->known = true;
    t->limit = calls;
    t->window_s = win;
    t->concurrency = conc;

    int64_t w = (int64_t)win * 1000, limit = calls;
    size_t idx = bucket_of(user, fam);
    struct bucket *b = &rl->buckets[idx];

    pthread_mutex_lock(&b->lock);
    struct rate_entry *e = entry_find(rl, b, idx, user, fam);
    if (e == NULL) {
        /* cannot track this user: refuse rather than run unlimited */
        pthread_mutex_unlock(&b->lock);
        t->to_wait_s = 1;
        return;
    }
    roll(e, now, w);
    int64_t est = e->prev * (w - (now - e->start_ms)) + e->curr * w;
    t->running = e->running;
    if (e->running >= conc) {
        t->to_wait_s = 1;
    } else if (est + w > limit * w) {
        int64_t ms = wait_ms(e, now, w, limit);
        t->to_wait_s = (unsigned)((ms + 999) / 1000);
        if (t->to_wait_s == 0)
            t->to_wait_s = 1;
    } else {
        e->curr++;
        e->running++;
        t->running = e->running;
        t->remaining = (unsigned)((limit * w - est - w) / w);
        t->admitted = true;
        t->entry = e;
    }
    pthread_mutex_unlock(&b->lock);
}

void
ratelimit_release(ratelimit_t *rl, struct rate_ticket *t)
{
    struct rate_entry *e = t->entry;

    if (e == NULL)
        return;
    t->entry = NULL;
    pthread_mutex_lock(&rl->buckets[e->bucket].lock);
    if (e->running > 0)
        e->running--;
    pthread_mutex_unlock(&rl->buckets[e->bucket].lock);
}
