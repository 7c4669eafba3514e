/* workers.h - a few threads for slow work that must not run on the HTTP event loops
 * (argon2id password verification takes ~0.1 s by design). */
#ifndef ODSCAN_WORKERS_H
#define ODSCAN_WORKERS_H

#include <stddef.h>

struct work {
    void        (*run)(struct work *w);   /* on a worker thread */
    struct work  *next;                   /* queue link, owned by the pool */
};

typedef struct workers workers_t;

/* workers_start starts n threads. Returns 0, ODS_E_NOMEM or ODS_E_IO. */
int workers_start(size_t n, workers_t **out);
/* workers_submit queues w; its run() is called once on a worker thread. Returns 0, or
 * ODS_E_SHUTDOWN once workers_stop began (w is not taken). */
int workers_submit(workers_t *p, struct work *w);
/* workers_stop runs what is queued and joins the threads; later submissions get
 * ODS_E_SHUTDOWN. p stays valid until workers_free. NULL-safe, idempotent. */
void workers_stop(workers_t *p);
/* workers_free releases a pool (stopping it first if needed). NULL-safe. */
void workers_free(workers_t *p);

#endif
