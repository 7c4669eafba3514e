/* cmd_audit.c - `odscanctl audit ...`: the audit log of launches and other actions. */
#include "cli.h"
#include "err.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

#define AUDIT_DEFAULT_LIMIT 50
#define AUDIT_LIMIT_MAX     1000000

static const char *const audit_headers[] = {
    "ID", "AT", "USER", "REMOTE", "ACTION", "TARGET", "RESULT", "DETAIL",
};

static const char *
dash(const char *s)
{
    return s[0] != '\0' ? s : "-";
}

static void
audit_cells(const void *record, cli_cell *out)
{
    const struct audit_entry *e = record;
    char at[CLI_TIME_MAX];

    cli_time(e->at_ms, at);
    cli_cell_set(out[0], "%lld", (long long)e->id);
    cli_cell_set(out[1], "%s", at);
    cli_cell_set(out[2], "%s", dash(e->user));
    cli_cell_set(out[3], "%s", dash(e->remote));
    cli_cell_set(out[4], "%s", dash(e->action));
    cli_cell_set(out[5], "%s", dash(e->target));
    cli_cell_set(out[6], "%s", dash(e->result));
    cli_cell_set(out[7], "%s", dash(e->detail));
}

static json_t *
audit_json(const void *record)
{
    const struct audit_entry *e = record;

    return json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)e->id,
        "at", cli_json_time(e->at_ms), "user", e->user, "remote", e->remote,
        "action", e->action, "target", e->target, "result", e->result, "detail", e->detail);
}

static const struct cli_view audit_view = {
    .ncols = 8, .headers = audit_headers, .cells = audit_cells, .json = audit_json,
};

static int
audit_list(const struct cli_call *call, int argc, char **argv)
{
    const char *limit_s = NULL;
    bool json = false;
    const struct cli_opt opts[] = { { "--limit", &limit_s, NULL }, { "--json", NULL, &json } };
    struct audit_entry *entries = NULL;
    uint64_t limit = AUDIT_DEFAULT_LIMIT;
    size_t n = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 2, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if (limit_s != NULL && (parse_u64(limit_s, AUDIT_LIMIT_MAX, &limit) != ODS_E_OK || limit == 0))
        return cli_usage_error("invalid --limit '%s' (want 1..%d)", limit_s, AUDIT_LIMIT_MAX);
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_audit_list(st, (size_t)limit, &entries, &n)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "reading the audit log");
        goto out;
    }
    rc = cli_emit(&audit_view, entries, sizeof(*entries), n, json);
out:
    free(entries);
    store_close(st);
    return rc;
}

static const struct cli_command audit_commands[] = {
    { "list", audit_list, "[--limit N] [--json]",
      "List the newest audit entries, newest first (default 50)." },
};

const struct cli_group cmd_audit_group = {
    "audit", audit_commands, sizeof(audit_commands) / sizeof(audit_commands[0]),
    "the audit log",
};
