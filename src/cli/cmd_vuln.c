/* cmd_vuln.c - `odscanctl vuln ...`: vulnerability findings, by asset or by advisory,
 * as the server's assessment wrote them. */
#include "cli.h"
#include "err.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const finding_headers[] = {
    "ASSET", "ADVISORY", "ALIASES", "PACKAGE", "INSTALLED", "FIXED_IN", "SEVERITY", "STATUS",
    "FIRST_SEEN",
};

static void
finding_cells(const void *record, cli_cell *out)
{
    const struct finding *f = record;
    char first[CLI_TIME_MAX];

    cli_time(f->first_seen_ms, first);
    cli_cell_set(out[0], "%lld", (long long)f->asset_id);
    cli_cell_set(out[1], "%s", f->advisory_id);
    cli_cell_set(out[2], "%s", f->aliases[0] != '\0' ? f->aliases : "-");
    cli_cell_set(out[3], "%s", f->package);
    cli_cell_set(out[4], "%s", f->installed_version);
    cli_cell_set(out[5], "%s", f->fixed_version[0] != '\0' ? f->fixed_version : "-");
    cli_cell_set(out[6], "%s", f->severity);
    cli_cell_set(out[7], "%s", f->fixed_ms != 0 ? "fixed" : "open");
    cli_cell_set(out[8], "%s", first);
}

static json_t *
finding_json(const void *record)
{
    const struct finding *f = record;

    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:o, s:o, s:o}",
        "asset_id", (json_int_t)f->asset_id, "advisory_id", f->advisory_id,
        "aliases", f->aliases, "package", f->package, "installed_version", f->installed_version,
        "fixed_version", f->fixed_version[0] != '\0' ? f->fixed_version : NULL,
        "severity", f->severity, "status", f->fixed_ms != 0 ? "fixed" : "open",
        "first_seen", cli_json_time(f->first_seen_ms), "last_seen", cli_json_time(f->last_seen_ms),
        "fixed", cli_json_time(f->fixed_ms));
}

static const struct cli_view finding_view = {
    .ncols = 9, .headers = finding_headers, .cells = finding_cells, .json = finding_json,
};

static int
parse_status(const char *s, enum finding_status dflt, enum finding_status *out)
{
    static const struct { const char *name; enum finding_status st; } names[] = {
        { "all", FINDING_ANY }, { "open", FINDING_OPEN }, { "fixed", FINDING_FIXED },
    };

    *out = dflt;
    if (s == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].st;
            return 0;
        }
    return cli_usage_error("invalid --status '%s' (want open, fixed or all)", s);
}

/* run_query lists the findings of q. */
static int
run_query(const struct cli_call *call, struct finding_query *q, bool json)
{
    struct finding *f = NULL;
    size_t n = 0;
    store_t *st = NULL;
    int rc;

    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        return rc;
    if ((rc = store_findings_list(st, q, &f, &n)) != ODS_E_OK)
        rc = cli_store_fail(rc, "reading findings");
    else
        rc = cli_emit(&finding_view, f, sizeof(*f), n, json);
    free(f);
    store_close(st);
    return rc;
}

static int
vuln_list(const struct cli_call *call, int argc, char **argv)
{
    const char *asset_s = NULL, *status_s = NULL, *severity = NULL, *package = NULL;
    bool json = false;
    const struct cli_opt opts[] = {
        { "--asset", &asset_s, NULL }, { "--status", &status_s, NULL },
        { "--severity", &severity, NULL }, { "--package", &package, NULL },
        { "--json", NULL, &json },
    };
    struct finding_query q = { 0 };
    int rc = cli_parse(call, argc, argv, opts, 5, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if (asset_s == NULL)
        return cli_usage_error("vuln list needs --asset N");
    if ((rc = cli_parse_id(asset_s, "asset", &q.asset_id)) != 0 ||
        (rc = parse_status(status_s, FINDING_ANY, &q.status)) != 0)
        return rc;
    q.severity = severity;
    q.package = package;
    return run_query(call, &q, json);
}

static int
vuln_who(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1] = { NULL }, *status_s = NULL;
    bool json = false;
    const struct cli_opt opts[] = { { "--status", &status_s, NULL }, { "--json", NULL, &json } };
    struct finding_query q = { 0 };
    int rc = cli_parse(call, argc, argv, opts, 2, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = parse_status(status_s, FINDING_OPEN, &q.status)) != 0)
        return rc;
    if (strlen(pos[0]) >= STORE_ADVISORY_ID_MAX)
        return cli_usage_error("advisory id too long");
    q.vuln_id = pos[0];
    return run_query(call, &q, json);
}

static const struct cli_command vuln_commands[] = {
    { "list", vuln_list, "--asset N [--status open|fixed|all] [--severity S] [--package P] [--json]",
      "List an asset's findings, highest score first." },
    { "who", vuln_who, "ID [--status open|fixed|all] [--json]",
      "List the assets an advisory id or alias (a CVE) affects (default: open findings)." },
};

const struct cli_group cmd_vuln_group = {
    "vuln", vuln_commands, sizeof(vuln_commands) / sizeof(vuln_commands[0]),
    "vulnerability findings of Vulnerability_Scan assessments",
};
