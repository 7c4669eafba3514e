/* diag.c - `odscan-agent scan TYPE` and `odscan-agent diag cpu-burn`: a scan or a
 * CPU-bound workload in a scan child under the CPU control, printed as JSON. */
#include "diag.h"
#include "cpu.h"
#include "err.h"
#include "runner.h"
#include "scan.h"
#include "scans/scans.h"

#include <jansson.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define BURN_BLOCK 16384

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    /* A truncated reason is still a useful reason. */
    if (vsnprintf(err, n, fmt, ap) < 0 && n > 0)
        err[0] = '\0';
    va_end(ap);
}

static int
print_json(json_t *doc, FILE *out, char *err, size_t n)
{
    if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) != 0
        || fputc('\n', out) == EOF || fflush(out) != 0) {
        set_err(err, n, "%s", "cannot write the output");
        return ODS_E_IO;
    }
    return ODS_E_OK;
}

int
diag_scan(const char *type_param, const struct diag_cpu *cpu, FILE *out, char *err, size_t n)
{
    const struct scan_type_info *info = scan_type_parse(type_param);
    struct runner_outcome res;
    int rc;

    if (info == NULL) {
        set_err(err, n, "unknown scan type '%s'", type_param);
        return ODS_E_INVAL;
    }
    struct runner_task task = {
        .run = scans_find(info->type),
        .ctx = { .root = "" },
        .cpu_limit = cpu->cpu_limit,
        .cpu_throttle = cpu->cpu_throttle,
        .allow_cgroup = true,
    };
    if (task.run == NULL) {
        scans_unsupported_reason(info->param, err, n);
        return ODS_E_UNSUPPORTED;
    }
    rc = runner_run(&task, &res);
    if (rc != ODS_E_OK) {
        set_err(err, n, "cannot run the scan: %s", err_msg(rc));
        return rc;
    }
    if (!res.completed) {
        set_err(err, n, "%s", res.reason);
        return ODS_E_IO;
    }
    rc = print_json(res.result, out, err, n);
    json_decref(res.result);
    return rc;
}

/* burn is the scan module of the CPU workload: hash a buffer until the wall time in
 * ctx->arg (seconds) has passed, with a checkpoint after every block. */
static int
burn(const struct scan_ctx *ctx, json_t **result, char *reason, size_t n)
{
    unsigned seconds = *(const unsigned *)ctx->arg;
    static unsigned char block[BURN_BLOCK];
    unsigned char digest[crypto_generichash_BYTES];
    struct timespec start, now;
    uint64_t rounds = 0;

    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        crypto_generichash(digest, sizeof(digest), block, sizeof(block), NULL, 0);
        memcpy(block, digest, sizeof(digest));
        rounds++;
        cpu_slice_done();
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < (time_t)seconds
        || (now.tv_sec - start.tv_sec == (time_t)seconds && now.tv_nsec < start.tv_nsec));
    *result = json_pack("{s:I}", "rounds", (json_int_t)rounds);
    if (*result == NULL) {
        set_err(reason, n, "%s", "out of memory");
        return ODS_E_NOMEM;
    }
    return ODS_E_OK;
}

static double
round3(double v)
{
    return (double)(int64_t)(v * 1000.0 + 0.5) / 1000.0;   /* v >= 0 */
}

int
diag_cpu_burn(unsigned seconds, const struct diag_cpu *cpu, FILE *out, char *err, size_t n)
{
    struct runner_outcome res;
    json_t *doc = NULL;
    int rc;
    struct runner_task task = {
        .run = burn,
        .ctx = { .root = "", .arg = &seconds },
        .cpu_limit = cpu->cpu_limit,
        .cpu_throttle = cpu->cpu_throttle,
        .allow_cgroup = true,
    };

    rc = runner_run(&task, &res);
    if (rc != ODS_E_OK) {
        set_err(err, n, "cannot run the workload: %s", err_msg(rc));
        return rc;
    }
    json_decref(res.result);
    if (!res.completed) {
        set_err(err, n, "%s", res.reason);
        return ODS_E_IO;
    }
    double share = res.wall_s > 0 ? 100.0 * res.cpu_s / res.wall_s : 0;
    doc = json_pack("{s:f, s:f, s:f, s:s, s:i, s:i}", "wall_s", round3(res.wall_s),
        "cpu_s", round3(res.cpu_s), "share_pct", round3(share), "method", cpu_method_name(res.method),
        "cpu_limit", (int)cpu->cpu_limit, "cpu_throttle", (int)cpu->cpu_throttle);
    if (doc == NULL) {
        set_err(err, n, "%s", "out of memory");
        return ODS_E_NOMEM;
    }
    rc = print_json(doc, out, err, n);
    json_decref(doc);
    return rc;
}
