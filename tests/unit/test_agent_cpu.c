/* test_agent_cpu.c - CPU control and the scan runner: a CPU-bound child under
 * cpu_limit 25 gets clearly less than its wall time (loose on purpose: tight figures
 * belong to the benchmark), the throttle slows a child too, and a crashing or failing
 * scan becomes a failed outcome with a reason instead of taking the caller down. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu.h"
#include "err.h"
#include "runner.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* burn spins on the CPU for the wall milliseconds in ctx->arg, checkpointing. */
static int
burn(const struct scan_ctx *ctx, json_t **result, char *reason, size_t n)
{
    long ms = *(const long *)ctx->arg;
    struct timespec start, now;
    volatile uint64_t x = 1;

    (void)reason;
    (void)n;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        cpu_slice_done();
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
    *result = json_pack("{s:I}", "x", (json_int_t)(x & 0xffff));
    return *result != NULL ? ODS_E_OK : ODS_E_NOMEM;
}

static int
crash(const struct scan_ctx *ctx, json_t **result, char *reason, size_t n)
{
    (void)ctx;
    (void)result;
    (void)reason;
    (void)n;
    raise(SIGSEGV);
    return ODS_E_OK;
}

static int
refuse(const struct scan_ctx *ctx, json_t **result, char *reason, size_t n)
{
    (void)ctx;
    (void)result;
    snprintf(reason, n, "nothing to scan here");
    return ODS_E_NOTFOUND;
}

static void
run_burn(unsigned limit, unsigned throttle, long ms, struct runner_outcome *out)
{
    struct runner_task task = {
        .run = burn, .ctx = { .root = "", .arg = &ms },
        .cpu_limit = limit, .cpu_throttle = throttle, .allow_cgroup = true,
    };

    assert_int_equal(runner_run(&task, out), ODS_E_OK);
    assert_true(out->completed);
    json_decref(out->result);
}

static void
test_limit_25(void **state)
{
    struct runner_outcome out;

    (void)state;
    run_burn(25, 0, 2000, &out);
    assert_int_not_equal(out.method, CPU_METHOD_NONE);
    double share = 100.0 * out.cpu_s / out.wall_s;
    print_message("cpu_limit 25 via %s: wall %.3f s, cpu %.3f s, share %.1f %%\n",
        cpu_method_name(out.method), out.wall_s, out.cpu_s, share);
    assert_true(out.wall_s >= 1.9);
    assert_true(share < 60.0);
}

static void
test_throttle_100(void **state)
{
    struct runner_outcome out;

    (void)state;
    run_burn(100, 100, 1500, &out);
    assert_int_equal(out.method, CPU_METHOD_NONE);
    double share = 100.0 * out.cpu_s / out.wall_s;
    print_message("cpu_throttle 100: share %.1f %%\n", share);
    assert_true(share < 80.0);
}

static void
test_failures_are_outcomes(void **state)
{
    static const struct {
        scan_run_fn run;
        const char *reason;
    } cases[] = {
        { crash,  "scan process killed by signal 11" },
        { refuse, "nothing to scan here" },
    };
    struct runner_outcome out;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct runner_task task = { .run = cases[i].run, .ctx = { .root = "" }, .cpu_limit = 100 };
        assert_int_equal(runner_run(&task, &out), ODS_E_OK);
        assert_false(out.completed);
        assert_null(out.result);
        assert_string_equal(out.reason, cases[i].reason);
    }
}

static bool
stop_now(void)
{
    return true;
}

static void
test_stop_kills_child(void **state)
{
    long ms = 60000;
    struct runner_outcome out;
    struct runner_task task = {
        .run = burn, .ctx = { .root = "", .arg = &ms }, .cpu_limit = 20, .should_stop = stop_now,
    };

    (void)state;
    assert_int_equal(runner_run(&task, &out), ODS_E_SHUTDOWN);
    assert_true(out.wall_s < 5.0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_25),
        cmocka_unit_test(test_throttle_100),
        cmocka_unit_test(test_failures_are_outcomes),
        cmocka_unit_test(test_stop_kills_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
