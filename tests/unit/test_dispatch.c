/* test_dispatch.c - the hub of waiting check-ins: registration, wake-ups by asset,
 * replacement, expiry, shutdown, and the hash table under many inserts and deletes. */
#include "dispatch.h"
#include "err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define WAITERS 5000

struct waiter {
    int64_t          asset;
    int              woken;      /* times woken */
    enum wake_reason why;
};

static struct waiter waiters[WAITERS];

static void
on_wake(void *w, enum wake_reason why)
{
    struct waiter *x = w;

    x->woken++;
    x->why = why;
}

static dispatch_t *
hub_with(size_t n, int64_t deadline)
{
    dispatch_t *d = NULL;

    assert_int_equal(dispatch_new(on_wake, &d), ODS_E_OK);
    memset(waiters, 0, sizeof(waiters));
    for (size_t i = 0; i < n; i++) {
        waiters[i].asset = (int64_t)(i * 7919 + 100001);   /* spread, with collisions */
        assert_int_equal(dispatch_wait(d, waiters[i].asset, &waiters[i], deadline), ODS_E_OK);
    }
    assert_int_equal(dispatch_count(d), n);
    return d;
}

static void
test_notify_wakes_only_its_asset(void **state)
{
    (void)state;
    dispatch_t *d = hub_with(WAITERS, 1000);

    /* wake every third waiter; the rest must stay registered and findable */
    for (size_t i = 0; i < WAITERS; i += 3)
        dispatch_notify(d, waiters[i].asset);
    for (size_t i = 0; i < WAITERS; i++) {
        assert_int_equal(waiters[i].woken, i % 3 == 0 ? 1 : 0);
        if (i % 3 == 0)
            assert_int_equal(waiters[i].why, WAKE_JOB);
    }
    for (size_t i = 0; i < WAITERS; i++)
        if (i % 3 != 0)
            dispatch_notify(d, waiters[i].asset);
    for (size_t i = 0; i < WAITERS; i++)
        assert_int_equal(waiters[i].woken, 1);
    assert_int_equal(dispatch_count(d), 0);
    dispatch_notify(d, 42);          /* nobody waits: no-op */
    dispatch_free(d);
}

static void
test_replaced_waiter_is_woken(void **state)
{
    (void)state;
    struct waiter second = { 0 };
    dispatch_t *d = hub_with(1, 1000);

    assert_int_equal(dispatch_wait(d, waiters[0].asset, &second, 1000), ODS_E_OK);
    assert_int_equal(waiters[0].woken, 1);
    assert_int_equal(waiters[0].why, WAKE_REPLACED);
    assert_int_equal(dispatch_count(d), 1);
    dispatch_notify(d, waiters[0].asset);
    assert_int_equal(second.woken, 1);
    assert_int_equal(second.why, WAKE_JOB);
    assert_int_equal(waiters[0].woken, 1);
    dispatch_free(d);
}

static void
test_expire_by_deadline(void **state)
{
    (void)state;
    dispatch_t *d = NULL;

    assert_int_equal(dispatch_new(on_wake, &d), ODS_E_OK);
    memset(waiters, 0, sizeof(waiters));
    for (size_t i = 0; i < 1000; i++) {
        waiters[i].asset = (int64_t)i + 1;
        assert_int_equal(dispatch_wait(d, waiters[i].asset, &waiters[i], (int64_t)i), ODS_E_OK);
    }
    dispatch_expire(d, 499);             /* deadlines 0..499 */
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(waiters[i].woken, i <= 499 ? 1 : 0);
    assert_int_equal(dispatch_count(d), 500);
    for (size_t i = 500; i < 1000; i++) {    /* the survivors are still reachable */
        dispatch_notify(d, waiters[i].asset);
        assert_int_equal(waiters[i].why, WAKE_JOB);
    }
    assert_int_equal(dispatch_count(d), 0);
    dispatch_free(d);
}

static void
test_close_wakes_all_and_refuses(void **state)
{
    (void)state;
    struct waiter late = { 0 };
    dispatch_t *d = hub_with(WAITERS, 1000);

    dispatch_close(d);
    for (size_t i = 0; i < WAITERS; i++) {
        assert_int_equal(waiters[i].woken, 1);
        assert_int_equal(waiters[i].why, WAKE_SHUTDOWN);
    }
    assert_int_equal(dispatch_count(d), 0);
    assert_int_equal(dispatch_wait(d, 7, &late, 1000), ODS_E_SHUTDOWN);
    assert_int_equal(late.woken, 0);
    dispatch_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_wakes_only_its_asset),
        cmocka_unit_test(test_replaced_waiter_is_woken),
        cmocka_unit_test(test_expire_by_deadline),
        cmocka_unit_test(test_close_wakes_all_and_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
