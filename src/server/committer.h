/* committer.h - group commit: launches submitted from many HTTP threads are gathered
 * and written by one thread in one transaction and one fsync, then each submitter is
 * told its result. */
#ifndef ODSCAN_COMMITTER_H
#define ODSCAN_COMMITTER_H

#include "store.h"

#include <stddef.h>

struct commit_item;
/* Called on the committer thread once the item's transaction has committed (rc 0,
 * item->launch.result valid) or failed (rc ODS_E_STORE: nothing was written). */
typedef void (*commit_done_fn)(struct commit_item *item, int rc);

struct commit_item {
    struct launch        launch;    /* see store.h */
    commit_done_fn       done;      /* NULL for audit-only items */
    void                *ctx;
    struct audit_entry  *audit;     /* audit-only item: written, nobody waits */
    struct commit_item  *next;      /* queue link, owned by the committer */
};

typedef struct committer committer_t;

/* committer_start starts the thread. batch_max bounds launches per transaction.
 * Returns 0, ODS_E_NOMEM or ODS_E_IO. */
int committer_start(store_t *st, size_t batch_max, committer_t **out);
/* committer_submit queues an item; the committer owns it until done() is called
 * (for audit-only items: frees item->audit and the item with free()). Returns 0, or
 * ODS_E_SHUTDOWN after committer_stop began (the item is not taken). */
int committer_submit(committer_t *c, struct commit_item *item);
/* committer_stop commits everything queued and stops the thread; later submissions
 * get ODS_E_SHUTDOWN. c stays valid until committer_free. NULL-safe, idempotent. */
void committer_stop(committer_t *c);
/* committer_free releases a stopped committer. NULL-safe. */
void committer_free(committer_t *c);

#endif
