/* cmd_job.c - `odscanctl job ...`: the scan jobs launches created, newest first. */
#include "cli.h"
#include "err.h"
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const job_headers[] = {
    "ID", "ASSET", "SCAN", "OVERRIDE", "STATE", "REQUESTED_BY", "CREATED",
};

static const char *
scan_param(int type)
{
    const struct scan_type_info *s = scan_type_get(type);

    return s != NULL ? s->param : "unknown";
}

static void
job_cells(const void *record, cli_cell *out)
{
    const struct job *j = record;
    char created[CLI_TIME_MAX];

    cli_time(j->created_ms, created);
    cli_cell_set(out[0], "%lld", (long long)j->id);
    cli_cell_set(out[1], "%lld", (long long)j->asset_id);
    cli_cell_set(out[2], "%s", scan_param(j->scan_type));
    cli_cell_set(out[3], "%s", j->override_cpu ? "true" : "false");
    cli_cell_set(out[4], "%s", job_state_name(j->state));
    cli_cell_set(out[5], "%s", j->requested_by[0] != '\0' ? j->requested_by : "-");
    cli_cell_set(out[6], "%s", created);
}

/* `job show` has every field, the list the columns above. */
static const char *const job_detail_headers[] = {
    "ID", "ASSET", "SCAN", "OVERRIDE", "STATE", "REQUESTED_BY", "REQUESTED_FROM", "CREATED",
    "UPDATED", "DISPATCHED", "STARTED", "FINISHED", "LEASE_DEADLINE", "ATTEMPTS",
    "CPU_APPLIED", "REASON",
};

static void
job_detail_cells(const void *record, cli_cell *out)
{
    const struct job *j = record;
    const int64_t times[] = {
        j->created_ms, j->updated_ms, j->dispatched_ms, j->started_ms, j->finished_ms,
        j->lease_deadline_ms,
    };
    char t[CLI_TIME_MAX];

    job_cells(record, out);
    cli_cell_set(out[6], "%s", j->requested_from[0] != '\0' ? j->requested_from : "-");
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        cli_time(times[i], t);
        cli_cell_set(out[7 + i], "%s", t);
    }
    cli_cell_set(out[13], "%d", j->attempts);
    cli_cell_set(out[14], "%s", j->cpu_applied[0] != '\0' ? j->cpu_applied : "-");
    cli_cell_set(out[15], "%s", j->reason[0] != '\0' ? j->reason : "-");
}

static json_t *
job_json(const void *record)
{
    const struct job *j = record;

    return json_pack("{s:I, s:I, s:s, s:b, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o,"
        " s:i, s:s?, s:s?}", "id", (json_int_t)j->id,
        "asset_id", (json_int_t)j->asset_id, "scan_type", scan_param(j->scan_type),
        "override_cpu", j->override_cpu, "state", job_state_name(j->state),
        "requested_by", j->requested_by, "requested_from", j->requested_from,
        "created", cli_json_time(j->created_ms), "updated", cli_json_time(j->updated_ms),
        "dispatched", cli_json_time(j->dispatched_ms), "started", cli_json_time(j->started_ms),
        "finished", cli_json_time(j->finished_ms),
        "lease_deadline", cli_json_time(j->lease_deadline_ms), "attempts", j->attempts,
        "cpu_applied", j->cpu_applied[0] != '\0' ? j->cpu_applied : NULL,
        "reason", j->reason[0] != '\0' ? j->reason : NULL);
}

static const struct cli_view job_view = {
    .ncols = 7, .headers = job_headers, .cells = job_cells, .json = job_json,
};

static const struct cli_view job_detail_view = {
    .ncols = 16, .headers = job_detail_headers, .cells = job_detail_cells, .json = job_json,
};

static int
job_list(const struct cli_call *call, int argc, char **argv)
{
    const char *asset_s = NULL;
    bool json = false;
    const struct cli_opt opts[] = { { "--asset", &asset_s, NULL }, { "--json", NULL, &json } };
    struct job *jobs = NULL;
    size_t n = 0;
    int64_t asset = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 2, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((asset_s != NULL && (rc = cli_parse_id(asset_s, "asset", &asset)) != CLI_EXIT_OK) ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_job_list(st, asset, &jobs, &n)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "listing jobs");
        goto out;
    }
    rc = cli_emit(&job_view, jobs, sizeof(*jobs), n, json);
out:
    free(jobs);
    store_close(st);
    return rc;
}

static int
job_show(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1];
    bool json = false;
    const struct cli_opt opts[] = { { "--json", NULL, &json } };
    struct job j;
    int64_t id = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_parse_id(pos[0], "job", &id)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_job_get(st, id, &j)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "job %lld", (long long)id);
        goto out;
    }
    rc = cli_emit_one(&job_detail_view, &j, json);
out:
    store_close(st);
    return rc;
}

static const struct cli_command job_commands[] = {
    { "list", job_list, "[--asset N] [--json]",
      "List jobs, newest first, of every asset or of one." },
    { "show", job_show, "N [--json]",
      "Show every field of one job, state times included (--json: an array holding one object)." },
};

const struct cli_group cmd_job_group = {
    "job", job_commands, sizeof(job_commands) / sizeof(job_commands[0]),
    "scan jobs created by launches",
};
