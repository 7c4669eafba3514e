/* dispatch.h - the agents waiting in their long-poll check-in, by asset, so that a
 * launch committed for an asset reaches its agent at once instead of at its next poll.
 * The hub only holds and wakes requests; what a wake-up does is the waiter's callback. */
#ifndef ODSCAN_DISPATCH_H
#define ODSCAN_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dispatch dispatch_t;

/* Why a waiter is woken. */
enum wake_reason { WAKE_JOB = 0, WAKE_TIMEOUT, WAKE_REPLACED, WAKE_SHUTDOWN };

/* Called with the hub's lock released, exactly once per registered waiter. */
typedef void (*dispatch_wake_fn)(void *waiter, enum wake_reason why);

/* dispatch_new makes an empty hub. Returns 0 or ODS_E_NOMEM. */
int dispatch_new(dispatch_wake_fn wake, dispatch_t **out);
/* dispatch_free frees the hub; it must hold no waiters. NULL-safe. */
void dispatch_free(dispatch_t *d);
/* dispatch_wait registers waiter for asset_id until deadline_ms (monotonic). An older
 * waiter of the same asset is woken with WAKE_REPLACED. Returns 0, or ODS_E_SHUTDOWN
 * once dispatch_close ran (waiter not registered), or ODS_E_NOMEM. */
int dispatch_wait(dispatch_t *d, int64_t asset_id, void *waiter, int64_t deadline_ms);
/* dispatch_notify wakes the waiter of asset_id with WAKE_JOB; no-op when none. */
void dispatch_notify(dispatch_t *d, int64_t asset_id);
/* dispatch_take removes the waiter of asset_id and returns it without waking it (the
 * caller now owns it and must answer it); NULL when none waits. */
void *dispatch_take(dispatch_t *d, int64_t asset_id);
/* dispatch_notify_all wakes every waiter with WAKE_JOB (events may have been missed:
 * each claims again and goes back to waiting if there is nothing for it). */
void dispatch_notify_all(dispatch_t *d);
/* dispatch_expire wakes every waiter whose deadline is <= now_ms with WAKE_TIMEOUT. */
void dispatch_expire(dispatch_t *d, int64_t now_ms);
/* dispatch_close refuses new waiters and wakes all current ones with WAKE_SHUTDOWN. */
void dispatch_close(dispatch_t *d);
/* dispatch_count returns the number of waiters (agents connected and waiting). */
size_t dispatch_count(dispatch_t *d);

#endif
