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

/* --- asset show: the asset, its profile in force and its latest inventory ------- */

#define LISTEN_MAX   256    /* listening ports shown from one inventory */
#define HISTORY_MAX  100    /* inventory scan times shown */
#define PROTO_MAX    8

struct port {
    char proto[PROTO_MAX];
    long port;
};

/* What `asset show` prints about one asset. */
struct asset_detail {
    struct asset   a;
    struct profile profile;
    bool           has_inventory;
    int64_t        inventory_job;
    int64_t        collected_ms;
    char           collected_at[CLI_TIME_MAX];   /* the document's own, else collected_ms */
    char           os[CLI_CELL_MAX];             /* "" when the document has none */
    long           packages;                     /* -1 when the document has none */
    struct port    ports[LISTEN_MAX];
    size_t         nports;
    int64_t        history[HISTORY_MAX];
    size_t         nhistory;
};

static const char *const asset_detail_headers[] = {
    "ID", "HOSTNAME", "OS", "MODULES", "AGENT_UUID", "CREATED", "LAST_CHECKIN", "FQDN",
    "OS_NAME", "OS_VERSION", "ARCH", "MACHINE_ID", "AGENT_VERSION", "LAST_ADDRESS", "UPDATED",
    "KEY_ID", "PROFILE", "CPU_LIMIT", "CPU_THROTTLE", "INVENTORY_OS", "PACKAGES", "LISTENING",
    "COLLECTED", "INVENTORY_SCANS",
};

static int
port_cmp(const void *x, const void *y)
{
    const struct port *a = x, *b = y;
    int c = strcmp(a->proto, b->proto);

    if (c != 0)
        return c;
    return (a->port > b->port) - (a->port < b->port);
}

/* port_of reads one "listening" entry: {"proto":"tcp","port":22} (also "protocol") or
 * the string "tcp/22". Returns false for anything else. */
static bool
port_of(json_t *v, struct port *p)
{
    const char *proto = NULL;
    uint64_t port = 0;

    if (json_is_string(v)) {
        const char *s = json_string_value(v), *slash = strchr(s, '/');
        if (slash == NULL || (size_t)(slash - s) >= PROTO_MAX || slash == s ||
            parse_u64(slash + 1, 65535, &port) != ODS_E_OK)
            return false;
        memcpy(p->proto, s, (size_t)(slash - s));
        p->proto[slash - s] = '\0';
    } else if (json_is_object(v)) {
        json_t *pr = json_object_get(v, "proto"), *po = json_object_get(v, "port");
        if (pr == NULL)
            pr = json_object_get(v, "protocol");
        if (!json_is_string(pr) || !json_is_integer(po) || json_integer_value(po) < 0 ||
            json_integer_value(po) > 65535)
            return false;
        proto = json_string_value(pr);
        port = (uint64_t)json_integer_value(po);
        if (*proto == '\0' || str_copy(p->proto, sizeof(p->proto), proto) != ODS_E_OK)
            return false;
    } else {
        return false;
    }
    for (char *c = p->proto; *c != '\0'; c++)
        *c = (char)tolower((unsigned char)*c);
    p->port = (long)port;
    return true;
}

/* ports_of collects the sorted, unique listening ports of an inventory document. */
static void
ports_of(json_t *listening, struct asset_detail *d)
{
    size_t i, n = 0;
    json_t *v;

    if (!json_is_array(listening))
        return;
    json_array_foreach(listening, i, v) {
        if (d->nports < LISTEN_MAX && port_of(v, &d->ports[d->nports]))
            d->nports++;
    }
    qsort(d->ports, d->nports, sizeof(d->ports[0]), port_cmp);
    for (i = 0; i < d->nports; i++)
        if (n == 0 || port_cmp(&d->ports[n - 1], &d->ports[i]) != 0)
            d->ports[n++] = d->ports[i];
    d->nports = n;
}

/* summary_of reads the parts of an inventory document `asset show` prints. A document
 * that is no JSON object leaves the summary empty. */
static void
summary_of(const char *doc, size_t len, struct asset_detail *d)
{
    json_t *root = json_loadb(doc, len, 0, NULL), *os, *v;

    d->packages = -1;
    cli_time(d->collected_ms, d->collected_at);
    if (!json_is_object(root))
        goto out;
    os = json_object_get(root, "os");
    if (json_is_object(os)) {
        const char *pretty = json_string_value(json_object_get(os, "pretty_name"));
        const char *name = json_string_value(json_object_get(os, "name"));
        const char *version = json_string_value(json_object_get(os, "version"));
        if (pretty != NULL)
            cli_cell_set(d->os, "%s", pretty);
        else if (name != NULL)
            cli_cell_set(d->os, "%s%s%s", name, version != NULL ? " " : "",
                version != NULL ? version : "");
    }
    v = json_object_get(root, "packages");
    if (json_is_array(v))
        d->packages = (long)json_array_size(v);
    ports_of(json_object_get(root, "listening"), d);
    v = json_object_get(root, "collected_at");
    if (json_is_string(v) && *json_string_value(v) != '\0')
        (void)str_copy(d->collected_at, sizeof(d->collected_at), json_string_value(v));
out:
    json_decref(root);
}

/* detail_load reads everything `asset show` prints. Returns 0 or an ODS_E_* code. */
static int
detail_load(store_t *st, int64_t id, struct asset_detail *d)
{
    char *doc = NULL;
    size_t len = 0;
    int rc;

    memset(d, 0, sizeof(*d));
    d->packages = -1;
    if ((rc = store_asset_get(st, id, &d->a)) != ODS_E_OK ||
        (rc = store_profile_for_asset(st, id, &d->profile)) != ODS_E_OK ||
        (rc = store_inventory_history(st, id, d->history, HISTORY_MAX, &d->nhistory)) != ODS_E_OK)
        return rc;
    rc = store_inventory_get(st, id, &doc, &len, &d->inventory_job, &d->collected_ms);
    if (rc == ODS_E_NOTFOUND)
        return ODS_E_OK;
    if (rc != ODS_E_OK)
        return rc;
    d->has_inventory = true;
    summary_of(doc, len, d);
    free(doc);
    return ODS_E_OK;
}

/* ports_cell joins the ports as "tcp/22, udp/53"; cut with "..." when too long. */
static void
ports_cell(const struct asset_detail *d, cli_cell out)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < d->nports; i++) {
        int len = snprintf(out + used, CLI_CELL_MAX - used, "%s%s/%ld", i > 0 ? ", " : "",
            d->ports[i].proto, d->ports[i].port);
        if (len < 0 || (size_t)len >= CLI_CELL_MAX - used) {
            memcpy(out + CLI_CELL_MAX - 4, "...", 4);
            return;
        }
        used += (size_t)len;
    }
    if (used == 0)
        cli_cell_set(out, "-");
}

static void
history_cell(const struct asset_detail *d, cli_cell out)
{
    char t[CLI_TIME_MAX];
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < d->nhistory; i++) {
        cli_time(d->history[i], t);
        int len = snprintf(out + used, CLI_CELL_MAX - used, "%s%s", i > 0 ? ", " : "", t);
        if (len < 0 || (size_t)len >= CLI_CELL_MAX - used) {
            memcpy(out + CLI_CELL_MAX - 4, "...", 4);
            return;
        }
        used += (size_t)len;
    }
    if (used == 0)
        cli_cell_set(out, "-");
}

static const char *
dash(const char *s)
{
    return s[0] != '\0' ? s : "-";
}

static void
asset_detail_cells(const void *record, cli_cell *out)
{
    const struct asset_detail *d = record;
    const struct asset *a = &d->a;
    char updated[CLI_TIME_MAX];

    asset_cells(a, out);
    cli_time(a->updated_ms, updated);
    cli_cell_set(out[7], "%s", dash(a->fqdn));
    cli_cell_set(out[8], "%s", dash(a->os_name));
    cli_cell_set(out[9], "%s", dash(a->os_version));
    cli_cell_set(out[10], "%s", dash(a->arch));
    cli_cell_set(out[11], "%s", dash(a->machine_id));
    cli_cell_set(out[12], "%s", dash(a->agent_version));
    cli_cell_set(out[13], "%s", dash(a->last_address));
    cli_cell_set(out[14], "%s", updated);
    if (a->key_id != 0)
        cli_cell_set(out[15], "%lld", (long long)a->key_id);
    else
        cli_cell_set(out[15], "-");
    cli_cell_set(out[16], "%s (%s)", d->profile.name,
        a->profile_id != 0 ? "assigned" : "OS default");
    cli_cell_set(out[17], "%d", d->profile.cpu_limit);
    cli_cell_set(out[18], "%d", d->profile.cpu_throttle);
    cli_cell_set(out[19], "%s", d->has_inventory ? dash(d->os) : "-");
    if (d->has_inventory && d->packages >= 0)
        cli_cell_set(out[20], "%ld", d->packages);
    else
        cli_cell_set(out[20], "-");
    ports_cell(d, out[21]);
    cli_cell_set(out[22], "%s", d->has_inventory ? d->collected_at : "-");
    history_cell(d, out[23]);
}

static json_t *
inventory_json(const struct asset_detail *d)
{
    json_t *ports = json_array(), *history = json_array(), *inv;
    char p[PROTO_MAX + 8];

    for (size_t i = 0; ports != NULL && i < d->nports; i++) {
        int len = snprintf(p, sizeof(p), "%s/%ld", d->ports[i].proto, d->ports[i].port);
        if (len < 0 || (size_t)len >= sizeof(p) || json_array_append_new(ports, json_string(p)) != 0) {
            json_decref(ports);
            ports = NULL;
        }
    }
    for (size_t i = 0; history != NULL && i < d->nhistory; i++) {
        if (json_array_append_new(history, cli_json_time(d->history[i])) != 0) {
            json_decref(history);
            history = NULL;
        }
    }
    if (!d->has_inventory)
        inv = json_null();
    else
        inv = json_pack("{s:I, s:s, s:s?, s:o, s:o}", "job_id", (json_int_t)d->inventory_job,
            "collected_at", d->collected_at, "os", d->os[0] != '\0' ? d->os : NULL,
            "packages", d->packages >= 0 ? json_integer(d->packages) : json_null(),
            "listening", json_incref(ports));
    json_decref(ports);
    return json_pack("{s:o, s:o}", "inventory", inv, "inventory_history", history);
}

static json_t *
asset_detail_json(const void *record)
{
    const struct asset_detail *d = record;
    const struct asset *a = &d->a;
    json_t *o = asset_json(a);
    json_t *more = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o,"
        " s:{s:I, s:s, s:b, s:i, s:i, s:i, s:i, s:i}}",
        "fqdn", a->fqdn[0] != '\0' ? a->fqdn : NULL,
        "os_name", a->os_name[0] != '\0' ? a->os_name : NULL,
        "os_version", a->os_version[0] != '\0' ? a->os_version : NULL,
        "arch", a->arch[0] != '\0' ? a->arch : NULL,
        "machine_id", a->machine_id[0] != '\0' ? a->machine_id : NULL,
        "agent_version", a->agent_version[0] != '\0' ? a->agent_version : NULL,
        "last_address", a->last_address[0] != '\0' ? a->last_address : NULL,
        "key_id", a->key_id != 0 ? json_integer(a->key_id) : json_null(),
        "profile", "id", (json_int_t)d->profile.id, "name", d->profile.name,
        "assigned", a->profile_id != 0, "cpu_limit", d->profile.cpu_limit,
        "cpu_throttle", d->profile.cpu_throttle, "checkin_hold_s", d->profile.checkin_hold_s,
        "lease_s", d->profile.lease_s, "max_concurrent", d->profile.max_concurrent);
    json_t *inv = inventory_json(d);

    if (o == NULL || more == NULL || inv == NULL || json_object_update(o, more) != 0 ||
        json_object_update(o, inv) != 0) {
        json_decref(o);
        o = NULL;
    }
    json_decref(more);
    json_decref(inv);
    return o;
}

static const struct cli_view asset_detail_view = {
    .ncols = 24, .headers = asset_detail_headers, .cells = asset_detail_cells,
    .json = asset_detail_json,
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
    struct asset_detail *d = NULL;
    int64_t id = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_parse_id(pos[0], "asset", &id)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((d = malloc(sizeof(*d))) == NULL) {
        rc = cli_fail("%s", err_msg(ODS_E_NOMEM));
        goto out;
    }
    if ((rc = detail_load(st, id, d)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "asset %lld", (long long)id);
        goto out;
    }
    rc = cli_emit_one(&asset_detail_view, d, json);
out:
    free(d);
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
      "Show one asset, its profile in force and its latest inventory (--json: an array holding one object)." },
};

const struct cli_group cmd_asset_group = {
    "asset", asset_commands, sizeof(asset_commands) / sizeof(asset_commands[0]),
    "hosts that scans can be launched on",
};
