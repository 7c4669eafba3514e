/* committer.h - group commit: store operations submitted from many threads (launches,
 * agent check-ins, claims, job updates) are gathered and written by one thread in one
 * transaction and one fsync, then each submitter is told its result. */
#ifndef ODSCAN_COMMITTER_H
#define ODSCAN_COMMITTER_H

#include "store.h"

#include <stddef.h>

#define COMMIT_OPS_INLINE 2     /* operations an item carries without an array of its own */

struct commit_item;
/* Called on the committer thread once the item's transaction committed (rc 0, each
 * op's result valid) or failed (rc ODS_E_STORE: nothing was written). The callback may
 * submit the item again. */
typedef void (*commit_done_fn)(struct commit_item *item, int rc);
/* Called on the committer thread after every committed batch, once all its items'
 * callbacks ran, with the batch's operations (e.g. to wake agents of launched jobs). */
typedef void (*commit_hook_fn)(void *ctx, const struct store_op *ops, size_t n);

/* Called on the committer thread with a batch's operations before it is written; it
 * may add items (up to cap) to the same transaction, after the batch's own operations
 * (e.g. the claims of agents waiting for the assets this batch launches on). Returns
 * how many it wrote into extra[]. */
typedef size_t (*commit_prepare_fn)(void *ctx, const struct store_op *ops, size_t n,
    struct commit_item **extra, size_t cap);

struct commit_item {
    struct store_op      own[COMMIT_OPS_INLINE];
    struct store_op     *ops;       /* NULL: own[]; or the submitter's array (a bulk
                                       launch), kept alive until done() */
    size_t               nops;
    commit_done_fn       done;      /* NULL for audit-only items */
    void                *ctx;
    struct audit_entry  *audit;     /* audit-only item: written, nobody waits */
    struct commit_item  *next;      /* queue link, owned by the committer */
};

typedef struct committer committer_t;

/* committer_start starts the thread. batch_max bounds operations per transaction
 * (one item larger than that still goes in one transaction, alone);
 * prepare (may be NULL) may add items to a batch; hook (may be NULL) runs after each
 * committed batch. Returns 0, ODS_E_NOMEM or
 * ODS_E_IO. */
int committer_start(store_t *st, size_t batch_max, commit_prepare_fn prepare,
    commit_hook_fn hook, void *hook_ctx, committer_t **out);
/* committer_submit queues an item; the committer owns it until done() is called
 * (audit-only items: it frees item->audit and the item with free()). Returns 0, or
 * ODS_E_SHUTDOWN after committer_stop began (the item is not taken). */
int committer_submit(committer_t *c, struct commit_item *item);
/* committer_stop commits everything queued and stops the thread; later submissions
 * get ODS_E_SHUTDOWN. c stays valid until committer_free. NULL-safe, idempotent. */
void committer_stop(committer_t *c);
/* committer_free releases a stopped committer. NULL-safe. */
void committer_free(committer_t *c);

#endif
