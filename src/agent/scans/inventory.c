/* inventory.c - the Inventory_Scan module: assembles the inventory document from
 * the collectors (inventory_sys.c, inventory_pkg.c, inventory_net.c). */
#include "inventory.h"
#include "cpu.h"
#include "err.h"
#include "inv.h"
#include "scans.h"
#include "util.h"

#include <stdio.h>

/* A section of the document filled by one collector. */
struct section {
    const char *name;
    json_t   *(*make)(void);
    int       (*fill)(const char *root, json_t *section);
};

static int
fill_interfaces(const char *root, json_t *arr)
{
    (void)root;   /* getifaddrs(3) knows no root prefix */
    return inventory_interfaces(arr);
}

static const struct section sections[] = {
    { "os",         json_object, inventory_os },
    { "host",       json_object, inventory_host },
    { "interfaces", json_array,  fill_interfaces },
    { "listening",  json_array,  inventory_listening },
    { "users",      json_array,  inventory_users },
};

/* add_packages fills "packages" and "package_managers" ({"dpkg","apk","rpm"}:
 * "read", "absent" or, for rpm, "unsupported": this build has no librpm). */
static int
add_packages(const char *root, json_t *doc)
{
    json_t *packages = json_array(), *managers = json_object();
    bool dpkg = false, apk = false;
    int rc = ODS_E_NOMEM;

    if (packages == NULL || managers == NULL)
        goto out;
    if ((rc = inventory_pkg_dpkg(root, packages, &dpkg)) != ODS_E_OK
        || (rc = inventory_pkg_apk(root, packages, &apk)) != ODS_E_OK)
        goto out;
    rc = ODS_E_NOMEM;
    /* XXX rpm databases are detected but not read (no librpm in this build). */
    if (inv_set_str(managers, "dpkg", dpkg ? "read" : "absent") != 0
        || inv_set_str(managers, "apk", apk ? "read" : "absent") != 0
        || inv_set_str(managers, "rpm", inventory_rpm_present(root) ? "unsupported" : "absent") != 0)
        goto out;
    rc = inv_set_new(doc, "packages", packages);
    packages = NULL;
    if (rc == ODS_E_OK)
        rc = inv_set_new(doc, "package_managers", managers);
    managers = NULL;
out:
    json_decref(packages);
    json_decref(managers);
    return rc;
}

static int
add_services(const char *root, json_t *doc, json_t *notes)
{
    json_t *services = json_array();
    bool systemd = false;
    int rc = ODS_E_NOMEM;

    if (services == NULL)
        return ODS_E_NOMEM;
    if ((rc = inventory_services(root, services, &systemd)) != ODS_E_OK) {
        json_decref(services);
        return rc;
    }
    if (!systemd && (rc = inv_append_str(notes, "services: systemd is not running")) != ODS_E_OK) {
        json_decref(services);
        return rc;
    }
    return inv_set_new(doc, "services", services);
}

static int
add_counts(json_t *doc)
{
    json_t *counts = json_object();

    if (counts == NULL
        || inv_set_int(counts, "packages", (int64_t)json_array_size(json_object_get(doc, "packages"))) != 0
        || inv_set_int(counts, "listening", (int64_t)json_array_size(json_object_get(doc, "listening"))) != 0
        || inv_set_int(counts, "users", (int64_t)json_array_size(json_object_get(doc, "users"))) != 0) {
        json_decref(counts);
        return ODS_E_NOMEM;
    }
    return inv_set_new(doc, "counts", counts);
}

int
inventory_collect(const char *root, json_t **out)
{
    char when[32];
    json_t *doc = json_object(), *notes = json_array();
    int rc = ODS_E_NOMEM;

    if (doc == NULL || notes == NULL)
        goto out;
    fmt_iso8601(when, sizeof(when), now_ms());
    if (inv_set_str(doc, "collected_at", when) != ODS_E_OK)
        goto out;
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        json_t *section = sections[i].make();
        if (section == NULL) {
            rc = ODS_E_NOMEM;
            goto out;
        }
        if ((rc = inv_set_new(doc, sections[i].name, section)) != ODS_E_OK
            || (rc = sections[i].fill(root, section)) != ODS_E_OK)
            goto out;
        cpu_slice_done();
    }
    if ((rc = add_packages(root, doc)) != ODS_E_OK || (rc = add_services(root, doc, notes)) != ODS_E_OK
        || (rc = add_counts(doc)) != ODS_E_OK)
        goto out;
    rc = inv_set_new(doc, "notes", notes);
    notes = NULL;
    if (rc != ODS_E_OK)
        goto out;
    *out = doc;
    doc = NULL;
out:
    json_decref(notes);
    json_decref(doc);
    return rc;
}

int
scan_inventory_run(const struct scan_ctx *ctx, json_t **result, char *reason, size_t n)
{
    int rc = inventory_collect(ctx->root != NULL ? ctx->root : "", result);

    if (rc != ODS_E_OK && snprintf(reason, n, "inventory scan failed: %s", err_msg(rc)) < 0 && n > 0)
        reason[0] = '\0';
    return rc;
}
