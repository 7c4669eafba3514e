/* cmd_profile.c - `odscanctl profile ...`: agent configuration profiles, the CPU budget
 * and timing an agent runs its scans under. Each OS family has a default profile; an
 * asset given a profile uses it instead. */
#include "cli.h"
#include "err.h"
#include "scan.h"
#include "util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static const char *const profile_headers[] = {
    "ID", "NAME", "OS_DEFAULT", "CPU_LIMIT", "CPU_THROTTLE", "CHECKIN_HOLD", "LEASE",
    "MAX_CONCURRENT",
};

/* The settings `profile create` takes, their ranges (as store.h) and defaults. */
static const struct {
    const char *option;
    size_t      offset;     /* int field of struct profile */
    int         min, max, dflt;
} settings[] = {
    { "--cpu-limit",      offsetof(struct profile, cpu_limit),      2, 100,   100 },
    { "--cpu-throttle",   offsetof(struct profile, cpu_throttle),   0, 1000,  0 },
    { "--checkin-hold",   offsetof(struct profile, checkin_hold_s), 1, 600,   60 },
    { "--lease",          offsetof(struct profile, lease_s),        10, 86400, 300 },
    { "--max-concurrent", offsetof(struct profile, max_concurrent), 1, SCAN_TYPE_COUNT, 1 },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static void
profile_cells(const void *record, cli_cell *out)
{
    const struct profile *p = record;

    cli_cell_set(out[0], "%lld", (long long)p->id);
    cli_cell_set(out[1], "%s", p->name);
    cli_cell_set(out[2], "%s", p->is_default ? p->os_family : "-");
    cli_cell_set(out[3], "%d", p->cpu_limit);
    cli_cell_set(out[4], "%d", p->cpu_throttle);
    cli_cell_set(out[5], "%ds", p->checkin_hold_s);
    cli_cell_set(out[6], "%ds", p->lease_s);
    cli_cell_set(out[7], "%d", p->max_concurrent);
}

static json_t *
profile_json(const void *record)
{
    const struct profile *p = record;

    return json_pack("{s:I, s:s, s:s?, s:i, s:i, s:i, s:i, s:i}", "id", (json_int_t)p->id,
        "name", p->name, "default_for", p->is_default ? p->os_family : NULL,
        "cpu_limit", p->cpu_limit, "cpu_throttle", p->cpu_throttle,
        "checkin_hold_s", p->checkin_hold_s, "lease_s", p->lease_s,
        "max_concurrent", p->max_concurrent);
}

static const struct cli_view profile_view = {
    .ncols = 8, .headers = profile_headers, .cells = profile_cells, .json = profile_json,
};

static int
profile_name_check(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len >= STORE_NAME_MAX || strspn(name, PROFILE_NAME_CHARS) != len)
        return cli_usage_error("invalid profile name '%s' (1-%d characters of A-Z a-z 0-9 . _ -)",
            name, STORE_NAME_MAX - 1);
    return CLI_EXIT_OK;
}

/* profile_from_args fills *p from the name and the setting values (NULL: default). */
static int
profile_from_args(const char *name, const char *const *values, struct profile *p)
{
    int rc;

    if ((rc = profile_name_check(name)) != CLI_EXIT_OK)
        return rc;
    if (str_copy(p->name, sizeof(p->name), name) != ODS_E_OK)
        return cli_usage_error("profile name too long");
    for (size_t i = 0; i < NSETTINGS; i++) {
        uint64_t v = (uint64_t)settings[i].dflt;
        if (values[i] != NULL && (parse_u64(values[i], (uint64_t)settings[i].max, &v) != ODS_E_OK ||
            v < (uint64_t)settings[i].min))
            return cli_usage_error("invalid %s '%s' (want %d..%d)", settings[i].option,
                values[i], settings[i].min, settings[i].max);
        int iv = (int)v;
        memcpy((char *)p + settings[i].offset, &iv, sizeof(iv));
    }
    return CLI_EXIT_OK;
}

static int
profile_create(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1], *values[NSETTINGS] = { NULL };
    struct cli_opt opts[NSETTINGS];
    struct profile p = { 0 };
    store_t *st = NULL;
    int rc;

    for (size_t i = 0; i < NSETTINGS; i++)
        opts[i] = (struct cli_opt){ settings[i].option, &values[i], NULL };
    if ((rc = cli_parse(call, argc, argv, opts, NSETTINGS, pos, 1)) != CLI_CONTINUE)
        return rc;
    if ((rc = profile_from_args(pos[0], values, &p)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_profile_add(st, &p)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "profile '%s'", p.name);
        goto out;
    }
    printf("profile '%s' created (id %lld)\n", p.name, (long long)p.id);
out:
    store_close(st);
    return rc;
}

static int
profile_list(const struct cli_call *call, int argc, char **argv)
{
    bool json = false;
    const struct cli_opt opts[] = { { "--json", NULL, &json } };
    struct profile *ps = NULL;
    size_t n = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_profile_list(st, &ps, &n)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "listing profiles");
        goto out;
    }
    rc = cli_emit(&profile_view, ps, sizeof(*ps), n, json);
out:
    free(ps);
    store_close(st);
    return rc;
}

static int
profile_assign(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1], *asset_s = NULL;
    const struct cli_opt opts[] = { { "--asset", &asset_s, NULL } };
    struct profile p;
    int64_t asset = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if (asset_s == NULL)
        return cli_usage_error("'profile assign' needs --asset N");
    if ((rc = cli_parse_id(asset_s, "asset", &asset)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    /* store_profile_assign says NOTFOUND for either: name the missing one */
    if ((rc = store_profile_get(st, pos[0], &p)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "profile '%s'", pos[0]);
        goto out;
    }
    if ((rc = store_profile_assign(st, asset, pos[0])) != ODS_E_OK) {
        rc = cli_store_fail(rc, "asset %lld", (long long)asset);
        goto out;
    }
    printf("asset %lld now uses profile '%s'\n", (long long)asset, p.name);
out:
    store_close(st);
    return rc;
}

static const struct cli_command profile_commands[] = {
    { "create", profile_create,
      "NAME [--cpu-limit 2..100] [--cpu-throttle 0..1000] [--checkin-hold 1..600]"
      " [--lease 10..86400] [--max-concurrent 1..6]",
      "Create a profile (defaults: 100, 0, 60 s, 300 s, 1)." },
    { "list", profile_list, "[--json]",
      "List profiles, the per-OS defaults first." },
    { "assign", profile_assign, "NAME --asset N",
      "Make an asset's agent use this profile from its next check-in." },
};

const struct cli_group cmd_profile_group = {
    "profile", profile_commands, sizeof(profile_commands) / sizeof(profile_commands[0]),
    "agent configuration profiles: CPU budget, check-in hold, lease",
};
