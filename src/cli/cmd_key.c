/* cmd_key.c - `odscanctl key ...`: activation keys, which agents present once to enroll
 * their host as an asset. A key is a random UUID; it gives the new assets its modules
 * and may be limited in uses and time, or revoked. */
#include "cli.h"
#include "err.h"
#include "scan.h"
#include "util.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_MAX_USES   2147483647
#define DAY_MS         86400000LL
#define KEY_TAGS_MAX   64          /* tags one key gives enrolling assets */

static const char *const key_headers[] = {
    "TOKEN", "NAME", "MODULES", "USES", "EXPIRES", "REVOKED", "CREATED",
};

static void
key_cells(const void *record, cli_cell *out)
{
    const struct actkey *k = record;
    char mods[CLI_MODULES_MAX], expires[CLI_TIME_MAX], created[CLI_TIME_MAX];

    module_format(k->modules, mods, sizeof(mods));
    cli_time(k->expires_ms, expires);
    cli_time(k->created_ms, created);
    cli_cell_set(out[0], "%s", k->token);
    cli_cell_set(out[1], "%s", k->name[0] != '\0' ? k->name : "-");
    cli_cell_set(out[2], "%s", mods[0] != '\0' ? mods : "-");
    if (k->max_uses != 0)
        cli_cell_set(out[3], "%d/%d", k->uses, k->max_uses);
    else
        cli_cell_set(out[3], "%d/-", k->uses);
    cli_cell_set(out[4], "%s", k->expires_ms != 0 ? expires : "never");
    cli_cell_set(out[5], "%s", k->revoked ? "yes" : "no");
    cli_cell_set(out[6], "%s", created);
}

static json_t *
key_json(const void *record)
{
    const struct actkey *k = record;

    return json_pack("{s:I, s:s, s:s?, s:o, s:i, s:o, s:o, s:b, s:o}", "id", (json_int_t)k->id,
        "token", k->token, "name", k->name[0] != '\0' ? k->name : NULL,
        "modules", cli_json_modules(k->modules), "uses", k->uses,
        "max_uses", k->max_uses != 0 ? json_integer(k->max_uses) : json_null(),
        "expires", cli_json_time(k->expires_ms), "revoked", k->revoked,
        "created", cli_json_time(k->created_ms));
}

static const struct cli_view key_view = {
    .ncols = 7, .headers = key_headers, .cells = key_cells, .json = key_json,
};

/* token_new writes a random UUID version 4 (RFC 9562) into dst. */
static int
token_new(char dst[STORE_KEY_MAX])
{
    unsigned char b[16];

    if (sodium_init() < 0)
        return cli_fail("cannot initialise the random number generator");
    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    int len = snprintf(dst, STORE_KEY_MAX,
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
        b[13], b[14], b[15]);
    sodium_memzero(b, sizeof(b));
    if (len < 0 || len >= STORE_KEY_MAX)
        return cli_fail("cannot format the key");
    return CLI_EXIT_OK;
}

/* shape_ok matches s against a template where 'd' is a digit and anything else itself. */
static bool
shape_ok(const char *s, const char *shape)
{
    for (; *shape != '\0'; s++, shape++) {
        bool ok = *shape == 'd' ? isdigit((unsigned char)*s) != 0 : *s == *shape;
        if (!ok)
            return false;
    }
    return *s == '\0';
}

/* num reads n digits at s (their shape already checked). */
static int
num(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* parse_expiry reads YYYY-MM-DD (the end of that day, UTC) or YYYY-MM-DDTHH:MM:SSZ into
 * ms since the epoch. Returns CLI_EXIT_OK or CLI_EXIT_USAGE after printing why. */
static int
parse_expiry(const char *s, int64_t *ms)
{
    bool date_only = shape_ok(s, "dddd-dd-dd");
    struct tm tm = { 0 }, want, back;
    time_t t;

    if (!date_only && !shape_ok(s, "dddd-dd-ddTdd:dd:ddZ"))
        return cli_usage_error("invalid --expires '%s' (want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", s);
    tm.tm_year = num(s, 4) - 1900;
    tm.tm_mon = num(s + 5, 2) - 1;
    tm.tm_mday = num(s + 8, 2);
    if (!date_only) {
        tm.tm_hour = num(s + 11, 2);
        tm.tm_min = num(s + 14, 2);
        tm.tm_sec = num(s + 17, 2);
    }
    want = tm;
    t = timegm(&tm);
    /* timegm normalises 02-30 into March: a date that does not round-trip is no date */
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_year != want.tm_year ||
        back.tm_mon != want.tm_mon || back.tm_mday != want.tm_mday ||
        back.tm_hour != want.tm_hour || back.tm_min != want.tm_min || back.tm_sec != want.tm_sec)
        return cli_usage_error("invalid --expires '%s' (no such date or time)", s);
    *ms = (int64_t)t * 1000 + (date_only ? DAY_MS : 0);
    if (*ms <= now_ms())
        return cli_usage_error("--expires '%s' is in the past", s);
    return CLI_EXIT_OK;
}

/* key_name_check: a title of printable characters, shorter than STORE_NAME_MAX. */
static int
key_name_check(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len >= STORE_NAME_MAX)
        return cli_usage_error("invalid key name '%s' (1-%d characters)", name, STORE_NAME_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if (iscntrl((unsigned char)name[i]))
            return cli_usage_error("invalid key name (control characters)");
    return CLI_EXIT_OK;
}

/* name_taken refuses a second key of one name: `key revoke NAME` must mean one key. */
static int
name_taken(store_t *st, const char *name)
{
    struct actkey *keys = NULL;
    size_t n = 0;
    int rc = store_key_list(st, &keys, &n);

    if (rc != ODS_E_OK)
        return cli_store_fail(rc, "listing keys");
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++)
        if (strcmp(keys[i].name, name) == 0 || strcmp(keys[i].token, name) == 0)
            rc = ODS_E_EXISTS;
    free(keys);
    return rc == ODS_E_OK ? CLI_EXIT_OK : cli_fail("a key named '%s' already exists", name);
}

/* key_from_args checks the options of `key create` and fills *k (token aside). */
static int
key_from_args(const char *name, const char *mods, const char *max_uses, const char *expires,
    struct actkey *k)
{
    uint64_t uses = 0;
    int rc;

    if (name != NULL) {
        if ((rc = key_name_check(name)) != CLI_EXIT_OK)
            return rc;
        if (str_copy(k->name, sizeof(k->name), name) != ODS_E_OK)
            return cli_usage_error("key name too long");
    }
    if ((rc = cli_parse_modules(mods, &k->modules)) != CLI_EXIT_OK)
        return rc;
    if (max_uses != NULL && parse_u64(max_uses, KEY_MAX_USES, &uses) != ODS_E_OK)
        return cli_usage_error("invalid --max-uses '%s' (want 0..%d, 0: unlimited)", max_uses,
            KEY_MAX_USES);
    k->max_uses = (int)uses;
    if (expires != NULL && (rc = parse_expiry(expires, &k->expires_ms)) != CLI_EXIT_OK)
        return rc;
    return CLI_EXIT_OK;
}

static int
key_create(const struct cli_call *call, int argc, char **argv)
{
    const char *name = NULL, *mods = NULL, *max_uses = NULL, *expires = NULL, *tags = NULL;
    const struct cli_opt opts[] = {
        { "--name", &name, NULL }, { "--modules", &mods, NULL },
        { "--max-uses", &max_uses, NULL }, { "--expires", &expires, NULL },
        { "--tags", &tags, NULL },
    };
    int64_t tag_ids[KEY_TAGS_MAX];
    size_t ntags = 0;
    struct actkey k = { 0 };
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = key_from_args(name, mods, max_uses, expires, &k)) != CLI_EXIT_OK ||
        (rc = token_new(k.token)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK ||
        (name != NULL && (rc = name_taken(st, name)) != CLI_EXIT_OK) ||
        (tags != NULL && (rc = cli_tag_ids(st, tags, tag_ids, KEY_TAGS_MAX, &ntags)) != CLI_EXIT_OK))
        goto out;
    if ((rc = store_key_add(st, &k)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "key %s", k.token);
        goto out;
    }
    /* XXX: two calls, not one transaction: a failure here leaves a key without tags */
    if (ntags > 0 && (rc = store_key_set_tags(st, k.id, tag_ids, ntags)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "tags of key %s", k.token);
        goto out;
    }
    printf("%s\n", k.token);
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : cli_fail("cannot write output");
out:
    store_close(st);
    return rc;
}

static int
key_list(const struct cli_call *call, int argc, char **argv)
{
    bool json = false;
    const struct cli_opt opts[] = { { "--json", NULL, &json } };
    struct actkey *keys = NULL;
    size_t n = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_key_list(st, &keys, &n)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "listing keys");
        goto out;
    }
    rc = cli_emit(&key_view, keys, sizeof(*keys), n, json);
out:
    free(keys);
    store_close(st);
    return rc;
}

static int
key_revoke(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1];
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, NULL, 0, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if (pos[0][0] == '\0')
        return cli_usage_error("'key revoke' needs a token or a name");
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_key_revoke(st, pos[0])) != ODS_E_OK) {
        rc = cli_store_fail(rc, "key '%s'", pos[0]);
        goto out;
    }
    printf("key '%s' revoked\n", pos[0]);
out:
    store_close(st);
    return rc;
}

static const struct cli_command key_commands[] = {
    { "create", key_create,
      "[--name N] [--modules VM,PC,SCA,SWCA,UDC] [--max-uses N] [--expires DATE] [--tags A,B]",
      "Create an activation key and print it; DATE is YYYY-MM-DD (valid through that day, "
      "UTC) or YYYY-MM-DDTHH:MM:SSZ; enrolling assets get the tags." },
    { "list", key_list, "[--json]",
      "List activation keys with their uses and expiry." },
    { "revoke", key_revoke, "TOKEN|NAME",
      "Revoke a key: agents can no longer enroll with it (enrolled ones stay)." },
};

const struct cli_group cmd_key_group = {
    "key", key_commands, sizeof(key_commands) / sizeof(key_commands[0]),
    "activation keys agents enroll with",
};
