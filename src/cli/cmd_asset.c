/* cmd_asset.c - `odscanctl asset ...`: the hosts scans are launched on, identified by
 * the caller-chosen numeric id that the Qualys-compatible API uses. */
#include "cli.h"
#include "err.h"
#include "scan.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTNAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_"

static const char *const os_families[] = { "linux", "windows", "macos", "unix" };

static const char *const asset_headers[] = {
    "ID", "HOSTNAME", "OS", "MODULES", "AGENT_UUID", "CREATED", "LAST_CHECKIN",
};

static void
asset_cells(const void *record, cli_cell *out)
{
    const struct asset *a = record;
    char created[CLI_TIME_MAX], checkin[CLI_TIME_MAX], mods[CLI_MODULES_MAX];

    cli_time(a->created_ms, created);
    cli_time(a->last_checkin_ms, checkin);
    module_format(a->modules, mods, sizeof(mods));
    cli_cell_set(out[0], "%lld", (long long)a->id);
    cli_cell_set(out[1], "%s", a->hostname);
    cli_cell_set(out[2], "%s", a->os_family);
    cli_cell_set(out[3], "%s", mods[0] != '\0' ? mods : "-");
    cli_cell_set(out[4], "%s", a->agent_uuid[0] != '\0' ? a->agent_uuid : "-");
    cli_cell_set(out[5], "%s", created);
    cli_cell_set(out[6], "%s", checkin);
}

static json_t *
asset_json(const void *record)
{
    const struct asset *a = record;

    return json_pack("{s:I, s:s, s:s, s:o, s:s?, s:o, s:o, s:o}", "id", (json_int_t)a->id,
        "hostname", a->hostname, "os_family", a->os_family, "modules", cli_json_modules(a->modules),
        "agent_uuid", a->agent_uuid[0] != '\0' ? a->agent_uuid : NULL,
        "created", cli_json_time(a->created_ms), "updated", cli_json_time(a->updated_ms),
        "last_checkin", cli_json_time(a->last_checkin_ms));
}

static const struct cli_view asset_view = {
    .ncols = 7, .headers = asset_headers, .cells = asset_cells, .json = asset_json,
};

static int
os_check(const char *os)
{
    for (size_t i = 0; i < sizeof(os_families) / sizeof(os_families[0]); i++)
        if (strcmp(os, os_families[i]) == 0)
            return CLI_EXIT_OK;
    return cli_usage_error("unknown os '%s' (linux, windows, macos or unix)", os);
}

static int
hostname_check(const char *h)
{
    size_t len = strlen(h);

    if (len == 0 || len >= STORE_HOST_MAX || strspn(h, HOSTNAME_CHARS) != len)
        return cli_usage_error("invalid hostname '%s'", h);
    return CLI_EXIT_OK;
}

/* uuid_check accepts the canonical 8-4-4-4-12 hexadecimal form. */
static int
uuid_check(const char *u)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    size_t i;

    for (i = 0; shape[i] != '\0' && u[i] != '\0'; i++) {
        bool ok = shape[i] == '-' ? u[i] == '-' : isxdigit((unsigned char)u[i]) != 0;
        if (!ok)
            break;
    }
    if (shape[i] != '\0' || u[i] != '\0')
        return cli_usage_error("invalid agent uuid '%s' (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", u);
    return CLI_EXIT_OK;
}

/* asset_from_args checks the options of `asset add` and fills *a. */
static int
asset_from_args(const char *id, const char *host, const char *os, const char *mods,
    const char *uuid, struct asset *a)
{
    int rc;

    if (id == NULL || host == NULL || os == NULL)
        return cli_usage_error("'asset add' needs --id, --hostname and --os");
    if ((rc = cli_parse_id(id, "asset", &a->id)) != CLI_EXIT_OK ||
        (rc = hostname_check(host)) != CLI_EXIT_OK || (rc = os_check(os)) != CLI_EXIT_OK ||
        (rc = cli_parse_modules(mods, &a->modules)) != CLI_EXIT_OK ||
        (uuid != NULL && (rc = uuid_check(uuid)) != CLI_EXIT_OK))
        return rc;
    if (str_copy(a->hostname, sizeof(a->hostname), host) != ODS_E_OK ||
        str_copy(a->os_family, sizeof(a->os_family), os) != ODS_E_OK ||
        str_copy(a->agent_uuid, sizeof(a->agent_uuid), uuid != NULL ? uuid : "") != ODS_E_OK)
        return cli_usage_error("argument too long");
    return CLI_EXIT_OK;
}

/* add_failed names what clashed: the id, or else the agent uuid. */
static int
add_failed(store_t *st, int rc, const struct asset *a)
{
    struct asset other;

    if (rc == ODS_E_EXISTS && a->agent_uuid[0] != '\0' &&
        store_asset_get(st, a->id, &other) == ODS_E_NOTFOUND)
        return cli_store_fail(rc, "an asset with agent uuid %s", a->agent_uuid);
    return cli_store_fail(rc, "asset %lld", (long long)a->id);
}

static int
asset_add(const struct cli_call *call, int argc, char **argv)
{
    const char *id = NULL, *host = NULL, *os = NULL, *mods = NULL, *uuid = NULL;
    const struct cli_opt opts[] = {
        { "--id", &id, NULL }, { "--hostname", &host, NULL }, { "--os", &os, NULL },
        { "--modules", &mods, NULL }, { "--uuid", &uuid, NULL },
    };
    struct asset a = { 0 };
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = asset_from_args(id, host, os, mods, uuid, &a)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_asset_add(st, &a)) != ODS_E_OK) {
        rc = add_failed(st, rc, &a);
        goto out;
    }
    printf("asset %lld added\n", (long long)a.id);
out:
    store_close(st);
    return rc;
}

static int
asset_list(const struct cli_call *call, int argc, char **argv)
{
    bool json = false;
    const struct cli_opt opts[] = { { "--json", NULL, &json } };
    struct asset *assets = NULL;
    size_t n = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_asset_list(st, &assets, &n)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "listing assets");
        goto out;
    }
    rc = cli_emit(&asset_view, assets, sizeof(*assets), n, json);
out:
    free(assets);
    store_close(st);
    return rc;
}

static int
asset_show(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1];
    bool json = false;
    const struct cli_opt opts[] = { { "--json", NULL, &json } };
    struct asset a;
    int64_t id = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_parse_id(pos[0], "asset", &id)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_asset_get(st, id, &a)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "asset %lld", (long long)id);
        goto out;
    }
    rc = cli_emit_one(&asset_view, &a, json);
out:
    store_close(st);
    return rc;
}

static const struct cli_command asset_commands[] = {
    { "add",  asset_add,
      "--id N --hostname H --os linux|windows|macos|unix [--modules VM,PC,SCA,SWCA,UDC] [--uuid U]",
      "Register an asset under the id the API will use for it." },
    { "list", asset_list, "[--json]",
      "List assets by id." },
    { "show", asset_show, "N [--json]",
      "Show one asset (--json: an array holding one object)." },
};

const struct cli_group cmd_asset_group = {
    "asset", asset_commands, sizeof(asset_commands) / sizeof(asset_commands[0]),
    "hosts that scans can be launched on",
};
