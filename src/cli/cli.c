/* cli.c - helpers shared by odscanctl's command files: option parsing, error exits,
 * opening the store, and the two output forms (aligned tables and JSON). */
#include "cli.h"
#include "err.h"
#include "scan.h"
#include "util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_URL_MAX (PATH_MAX + 16)

struct cli_table {
    size_t  ncols;
    size_t  nrows;       /* including the header row, if any */
    size_t  cap;         /* rows allocated */
    char  **cells;       /* nrows * ncols copies */
    size_t *widths;
};

static void
vreport(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", CLI_PROG);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int
cli_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

int
cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int
cli_store_fail(int rc, const char *fmt, ...)
{
    char subject[256];
    va_list ap;

    va_start(ap, fmt);
    int len = vsnprintf(subject, sizeof(subject), fmt, ap);
    va_end(ap);
    if (len < 0)
        subject[0] = '\0';
    /* a truncated subject still names the thing: vsnprintf NUL-terminated it */
    if (rc == ODS_E_NOTFOUND)
        return cli_fail("%s not found", subject);
    if (rc == ODS_E_EXISTS)
        return cli_fail("%s already exists", subject);
    return cli_fail("%s: %s", subject, err_msg(rc));
}

void
cli_command_usage(const struct cli_call *call)
{
    printf("usage: %s (--state-dir DIR | --db URL) %s %s%s%s\n%s\n", CLI_PROG,
        call->group->name, call->cmd->name, *call->cmd->usage != '\0' ? " " : "",
        call->cmd->usage, call->cmd->help);
}

static const struct cli_opt *
opt_find(const struct cli_opt *opts, size_t nopts, const char *arg, size_t len)
{
    for (size_t k = 0; k < nopts; k++)
        if (strlen(opts[k].name) == len && strncmp(opts[k].name, arg, len) == 0)
            return &opts[k];
    return NULL;
}

int
cli_match_opt(const struct cli_opt *opts, size_t nopts, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct cli_opt *o = opt_find(opts, nopts, arg, len);

    if (o == NULL)
        return 0;
    if (o->flag != NULL) {
        if (eq != NULL)
            return cli_usage_error("option %s takes no value", o->name);
        *o->flag = true;
        return 1;
    }
    if (*o->value != NULL)
        return cli_usage_error("option %s given twice", o->name);
    if (eq != NULL) {
        *o->value = eq + 1;
    } else if (*i + 1 < argc) {
        *o->value = argv[++*i];
    } else {
        return cli_usage_error("option %s needs a value", o->name);
    }
    return 1;
}

int
cli_parse(const struct cli_call *call, int argc, char **argv, const struct cli_opt *opts,
    size_t nopts, const char **pos, size_t npos)
{
    size_t got = 0;
    bool only_pos = false;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_pos && strcmp(arg, "--help") == 0) {
            cli_command_usage(call);
            return CLI_EXIT_OK;
        }
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
            int rc = cli_match_opt(opts, nopts, argc, argv, &i);
            if (rc == 0)
                return cli_usage_error("unknown option '%s' for '%s %s'", arg,
                    call->group->name, call->cmd->name);
            if (rc != 1)
                return rc;
            continue;
        }
        if (got == npos)
            return cli_usage_error("unexpected argument '%s' for '%s %s'", arg,
                call->group->name, call->cmd->name);
        pos[got++] = arg;
    }
    if (got < npos)
        return cli_usage_error("'%s %s' needs %s", call->group->name, call->cmd->name,
            call->cmd->usage);
    return CLI_CONTINUE;
}

int
cli_store_open(const struct cli_call *call, store_t **st)
{
    char url[CLI_URL_MAX];
    const char *err = NULL;

    if (call->db_url != NULL) {
        if (str_copy(url, sizeof(url), call->db_url) != 0)
            return cli_usage_error("--db URL too long");
    } else if (call->state_dir != NULL) {
        int len = snprintf(url, sizeof(url), "sqlite:%s/odscan.db", call->state_dir);
        if (len < 0 || (size_t)len >= sizeof(url))
            return cli_usage_error("--state-dir path too long");
    } else {
        return cli_usage_error("no database: give --state-dir DIR or --db URL");
    }
    int rc = store_open(url, st, &err);
    if (rc != ODS_E_OK)
        return cli_fail("%s", err != NULL ? err : err_msg(rc));
    return CLI_EXIT_OK;
}

int
cli_parse_id(const char *s, const char *what, int64_t *out)
{
    uint64_t v = 0;

    if (parse_u64(s, INT64_MAX, &v) != ODS_E_OK || v == 0)
        return cli_usage_error("invalid %s id '%s' (want 1..%lld)", what, s,
            (long long)INT64_MAX);
    *out = (int64_t)v;
    return CLI_EXIT_OK;
}

int
cli_parse_modules(const char *s, unsigned *mods)
{
    const char *bad = s;

    *mods = MOD_NONE;
    if (s == NULL)
        return CLI_EXIT_OK;
    if (module_parse_list(s, mods, &bad) != ODS_E_OK)
        return cli_usage_error("unknown module '%.*s' (VM, PC, SCA, SWCA, UDC)",
            (int)strcspn(bad, ","), bad);
    return CLI_EXIT_OK;
}

json_t *
cli_json_modules(unsigned mods)
{
    json_t *arr = json_array();
    char name[CLI_MODULE_NAME_MAX];

    for (unsigned bit = 1; arr != NULL && bit <= MOD_ALL; bit <<= 1) {
        if (!(mods & bit))
            continue;
        module_format(bit, name, sizeof(name));
        if (json_array_append_new(arr, json_string(name)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

void
cli_time(int64_t ms, char dst[CLI_TIME_MAX])
{
    if (ms == 0) {
        (void)str_copy(dst, CLI_TIME_MAX, "-");
        return;
    }
    fmt_iso8601(dst, CLI_TIME_MAX, ms);
}

json_t *
cli_json_time(int64_t ms)
{
    char t[CLI_TIME_MAX];

    if (ms == 0)
        return json_null();
    fmt_iso8601(t, sizeof(t), ms);
    return json_string(t);
}

int
cli_json_print(json_t *value)
{
    int rc = CLI_EXIT_OK;

    if (value == NULL)
        return cli_fail("%s", err_msg(ODS_E_NOMEM));
    if (json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
        fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        rc = cli_fail("cannot write output");
    json_decref(value);
    return rc;
}

/* --- tables ----------------------------------------------------------------------- */

struct cli_table *
cli_table_new(size_t ncols, const char *const *headers)
{
    struct cli_table *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    t->widths = calloc(ncols, sizeof(*t->widths));
    if (t->widths == NULL || (headers != NULL && cli_table_add(t, headers) != ODS_E_OK)) {
        cli_table_free(t);
        return NULL;
    }
    return t;
}

static int
table_grow(struct cli_table *t)
{
    size_t ncap = t->cap != 0 ? t->cap * 2 : 16;
    char **cells;

    if (ncap > SIZE_MAX / t->ncols)
        return ODS_E_NOMEM;
    cells = reallocarray(t->cells, ncap * t->ncols, sizeof(*cells));
    if (cells == NULL)
        return ODS_E_NOMEM;
    t->cells = cells;
    t->cap = ncap;
    return ODS_E_OK;
}

int
cli_table_add(struct cli_table *t, const char *const *cells)
{
    char **row;
    size_t c;

    if (t->nrows == t->cap && table_grow(t) != ODS_E_OK)
        return ODS_E_NOMEM;
    row = t->cells + t->nrows * t->ncols;
    for (c = 0; c < t->ncols; c++) {
        row[c] = strdup(cells[c] != NULL ? cells[c] : "");
        if (row[c] == NULL)
            goto fail;
    }
    for (c = 0; c < t->ncols; c++) {
        size_t w = strlen(row[c]);
        if (w > t->widths[c])
            t->widths[c] = w;
    }
    t->nrows++;
    return ODS_E_OK;
fail:
    while (c-- > 0)
        free(row[c]);
    return ODS_E_NOMEM;
}

int
cli_table_print(const struct cli_table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        char *const *row = t->cells + r * t->ncols;
        for (size_t c = 0; c < t->ncols; c++) {
            bool last = c + 1 == t->ncols;
            if (printf("%-*s%s", last ? 0 : (int)t->widths[c], row[c], last ? "\n" : "  ") < 0)
                return cli_fail("cannot write output");
        }
    }
    if (fflush(stdout) != 0)
        return cli_fail("cannot write output");
    return CLI_EXIT_OK;
}

void
cli_table_free(struct cli_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->widths);
    free(t);
}

/* --- records ---------------------------------------------------------------------- */

void
cli_cell_set(cli_cell cell, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int len = vsnprintf(cell, CLI_CELL_MAX, fmt, ap);
    va_end(ap);
    if (len < 0)
        cell[0] = '\0';
    else if ((size_t)len >= CLI_CELL_MAX)
        memcpy(cell + CLI_CELL_MAX - 4, "...", 4);
}

static int
emit_json(const struct cli_view *v, const char *records, size_t size, size_t n)
{
    json_t *arr = json_array();

    if (arr == NULL)
        return cli_json_print(NULL);
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(arr, v->json(records + i * size)) != 0) {
            json_decref(arr);
            return cli_json_print(NULL);
        }
    }
    return cli_json_print(arr);
}

/* row_cells formats a record's cells and points cells[] at them. */
static void
row_cells(const struct cli_view *v, const void *record, cli_cell *scratch, const char **cells)
{
    v->cells(record, scratch);
    for (size_t c = 0; c < v->ncols; c++)
        cells[c] = scratch[c];
}

int
cli_emit(const struct cli_view *v, const void *records, size_t size, size_t n, bool json)
{
    cli_cell scratch[CLI_COLS_MAX];
    const char *cells[CLI_COLS_MAX];
    struct cli_table *t = NULL;
    int rc;

    if (json)
        return emit_json(v, records, size, n);
    t = cli_table_new(v->ncols, v->headers);
    if (t == NULL) {
        rc = cli_fail("%s", err_msg(ODS_E_NOMEM));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        row_cells(v, (const char *)records + i * size, scratch, cells);
        if (cli_table_add(t, cells) != ODS_E_OK) {
            rc = cli_fail("%s", err_msg(ODS_E_NOMEM));
            goto out;
        }
    }
    rc = cli_table_print(t);
out:
    cli_table_free(t);
    return rc;
}

int
cli_emit_one(const struct cli_view *v, const void *record, bool json)
{
    cli_cell scratch[CLI_COLS_MAX];
    const char *cells[CLI_COLS_MAX];
    struct cli_table *t = NULL;
    int rc;

    if (json)
        return emit_json(v, record, 0, 1);
    row_cells(v, record, scratch, cells);
    t = cli_table_new(2, NULL);
    if (t == NULL) {
        rc = cli_fail("%s", err_msg(ODS_E_NOMEM));
        goto out;
    }
    for (size_t c = 0; c < v->ncols; c++) {
        const char *pair[2] = { v->headers[c], cells[c] };
        if (cli_table_add(t, pair) != ODS_E_OK) {
            rc = cli_fail("%s", err_msg(ODS_E_NOMEM));
            goto out;
        }
    }
    rc = cli_table_print(t);
out:
    cli_table_free(t);
    return rc;
}
