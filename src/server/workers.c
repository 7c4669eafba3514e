/* workers.c - a fixed pool of threads draining one FIFO of work items. */
#include "workers.h"
#include "err.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct workers {
    pthread_mutex_t lock;
    pthread_cond_t  wake;
    struct work    *head, *tail;
    bool            stopping;
    bool            joined;
    size_t          n;
    pthread_t       threads[];
};

static void *
worker_main(void *arg)
{
    workers_t *p = arg;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        struct work *w = p->head;
        if (w == NULL)
            break;                      /* stopping and drained */
        p->head = w->next;
        if (p->head == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        w->run(w);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int
workers_start(size_t n, workers_t **out)
{
    workers_t *p = calloc(1, sizeof(*p) + n * sizeof(pthread_t));

    if (p == NULL)
        return ODS_E_NOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    for (; p->n < n; p->n++) {
        if (pthread_create(&p->threads[p->n], NULL, worker_main, p) != 0) {
            workers_free(p);
            return ODS_E_IO;
        }
    }
    *out = p;
    return ODS_E_OK;
}

int
workers_submit(workers_t *p, struct work *w)
{
    int rc = ODS_E_OK;

    w->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        rc = ODS_E_SHUTDOWN;
    } else {
        if (p->tail != NULL)
            p->tail->next = w;
        else
            p->head = w;
        p->tail = w;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void
workers_stop(workers_t *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (!p->joined)
        for (size_t i = 0; i < p->n; i++)
            pthread_join(p->threads[i], NULL);
    p->joined = true;
}

void
workers_free(workers_t *p)
{
    if (p == NULL)
        return;
    workers_stop(p);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
