/* cmd_tag.c - `odscanctl tag ...`: tags, which mark assets (by hand, or through the
 * activation key an agent enrolls with) and limit what a scoped user sees. */
#include "cli.h"
#include "err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tag_headers[] = { "ID", "NAME", "CREATED" };

static void
tag_cells(const void *record, cli_cell *out)
{
    const struct tag *t = record;
    char created[CLI_TIME_MAX];

    cli_time(t->created_ms, created);
    cli_cell_set(out[0], "%lld", (long long)t->id);
    cli_cell_set(out[1], "%s", t->name);
    cli_cell_set(out[2], "%s", created);
}

static json_t *
tag_json(const void *record)
{
    const struct tag *t = record;

    return json_pack("{s:I, s:s, s:o}", "id", (json_int_t)t->id, "name", t->name,
        "created", cli_json_time(t->created_ms));
}

static const struct cli_view tag_view = {
    .ncols = 3, .headers = tag_headers, .cells = tag_cells, .json = tag_json,
};

int
cli_tag_name_check(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len >= STORE_TAG_MAX)
        return cli_usage_error("invalid tag name '%s' (1-%d bytes)", name, STORE_TAG_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if (iscntrl((unsigned char)name[i]) || name[i] == ',')
            return cli_usage_error("invalid tag name (control characters or ',')");
    return CLI_EXIT_OK;
}

int
cli_tag_ids(store_t *st, const char *list, int64_t *ids, size_t cap, size_t *n)
{
    char name[STORE_TAG_MAX];
    const char *p = list;

    *n = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        struct tag t;
        if (len == 0 || len >= sizeof(name))
            return cli_usage_error("invalid tag list '%s'", list);
        memcpy(name, p, len);
        name[len] = '\0';
        if (*n >= cap)
            return cli_usage_error("more than %zu tags", cap);
        int rc = store_tag_get(st, name, &t);
        if (rc != ODS_E_OK)
            return cli_store_fail(rc, "tag '%s'", name);
        ids[(*n)++] = t.id;
        p += len;
        if (*p == ',')
            p++;
    }
    return CLI_EXIT_OK;
}

static int
tag_create(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1];
    struct tag t = { 0 };
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, NULL, 0, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_tag_name_check(pos[0])) != CLI_EXIT_OK)
        return rc;
    memcpy(t.name, pos[0], strlen(pos[0]) + 1);
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_tag_add(st, &t)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "tag '%s'", pos[0]);
        goto out;
    }
    printf("%lld\n", (long long)t.id);
out:
    store_close(st);
    return rc;
}

static int
tag_list(const struct cli_call *call, int argc, char **argv)
{
    bool json = false;
    const struct cli_opt opts[] = { { "--json", NULL, &json } };
    struct tag *tags = NULL;
    size_t n = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_tag_list(st, NULL, &tags, &n)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "listing tags");
        goto out;
    }
    rc = cli_emit(&tag_view, tags, sizeof(*tags), n, json);
out:
    free(tags);
    store_close(st);
    return rc;
}

/* tag_link assigns (on) or removes (!on) tag NAME on --asset ID. */
static int
tag_link(const struct cli_call *call, int argc, char **argv, bool on)
{
    const char *pos[1], *asset = NULL;
    const struct cli_opt opts[] = { { "--asset", &asset, NULL } };
    int64_t id = 0;
    struct tag t;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if (asset == NULL)
        return cli_usage_error("'tag %s' needs --asset ID", on ? "assign" : "remove");
    if ((rc = cli_parse_id(asset, "asset", &id)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_tag_get(st, pos[0], &t)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "tag '%s'", pos[0]);
        goto out;
    }
    rc = on ? store_tag_assign(st, t.id, id) : store_tag_unassign(st, t.id, id);
    if (rc != ODS_E_OK) {
        rc = cli_store_fail(rc, "asset %lld", (long long)id);
        goto out;
    }
    printf("tag '%s' %s asset %lld\n", t.name, on ? "assigned to" : "removed from", (long long)id);
out:
    store_close(st);
    return rc;
}

static int
tag_assign(const struct cli_call *call, int argc, char **argv)
{
    return tag_link(call, argc, argv, true);
}

static int
tag_remove(const struct cli_call *call, int argc, char **argv)
{
    return tag_link(call, argc, argv, false);
}

static int
tag_del(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1];
    struct tag t;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, NULL, 0, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_tag_get(st, pos[0], &t)) == ODS_E_OK)
        rc = store_tag_del(st, t.id);
    if (rc != ODS_E_OK) {
        rc = cli_store_fail(rc, "tag '%s'", pos[0]);
        goto out;
    }
    printf("tag '%s' deleted\n", pos[0]);
out:
    store_close(st);
    return rc;
}

static const struct cli_command tag_commands[] = {
    { "create", tag_create, "NAME", "Create a tag and print its id." },
    { "list",   tag_list,   "[--json]", "List tags by name." },
    { "assign", tag_assign, "NAME --asset ID", "Put a tag on an asset." },
    { "remove", tag_remove, "NAME --asset ID", "Take a tag off an asset." },
    { "del",    tag_del,    "NAME",
      "Delete a tag: it leaves every asset, key and user scope that had it." },
};

const struct cli_group cmd_tag_group = {
    "tag", tag_commands, sizeof(tag_commands) / sizeof(tag_commands[0]),
    "tags on assets, activation keys and user scopes",
};
