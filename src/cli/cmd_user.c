/* cmd_user.c - `odscanctl user ...`: the accounts that may call the API. Passwords are
 * read from the terminal without echo, or as one line from stdin, and only their
 * argon2id hash is stored; hashes are never printed. */
#include "cli.h"
#include "err.h"
#include "password.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define USER_LIMIT_MAX    1000000000     /* calls, window seconds, concurrency */
#define PRINCIPAL_SCOPE_MAX 64            /* as the server keeps (src/server/auth.h) */
#define USER_NAME_CHARS   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-"
#define PASSWORD_LINE_MAX (PASSWORD_MAX + 3)   /* the password, "\r\n" and NUL */

static const char *const user_headers[] = { "NAME", "ROLE", "CREATED", "FAILED", "LOCKED_UNTIL" };

static void
user_cells(const void *record, cli_cell *out)
{
    const struct user *u = record;
    char created[CLI_TIME_MAX], locked[CLI_TIME_MAX];

    cli_time(u->created_ms, created);
    cli_time(u->locked_until_ms, locked);
    cli_cell_set(out[0], "%s", u->name);
    cli_cell_set(out[1], "%s", role_name(u->role));
    cli_cell_set(out[2], "%s", created);
    cli_cell_set(out[3], "%d", u->failed_count);
    cli_cell_set(out[4], "%s", locked);
}

static json_t *
user_json(const void *record)
{
    const struct user *u = record;

    return json_pack("{s:I, s:s, s:s, s:o, s:i, s:o}", "id", (json_int_t)u->id,
        "name", u->name, "role", role_name(u->role), "created", cli_json_time(u->created_ms),
        "failed_count", u->failed_count, "locked_until", cli_json_time(u->locked_until_ms));
}

static const struct cli_view user_view = {
    .ncols = 5, .headers = user_headers, .cells = user_cells, .json = user_json,
};

static int
name_check(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len >= STORE_NAME_MAX || strspn(name, USER_NAME_CHARS) != len)
        return cli_usage_error("invalid user name '%s' (1-%d characters of A-Z a-z 0-9 . _ @ -)",
            name, STORE_NAME_MAX - 1);
    return CLI_EXIT_OK;
}

static int
role_arg(const char *arg, int *role)
{
    if (role_parse(arg, role) != ODS_E_OK)
        return cli_usage_error("unknown role '%s' (manager, scanner or reader)", arg);
    return CLI_EXIT_OK;
}

/* read_line reads one line into buf (n bytes) and strips "\n" or "\r\n".
 * Returns 0, ODS_E_TOOBIG or ODS_E_IO (nothing to read). */
static int
read_line(char *buf, size_t n, size_t *len)
{
    if (fgets(buf, (int)n, stdin) == NULL)
        return ODS_E_IO;
    *len = strlen(buf);
    if (*len > 0 && buf[*len - 1] == '\n') {
        buf[--*len] = '\0';
        if (*len > 0 && buf[*len - 1] == '\r')
            buf[--*len] = '\0';
    } else if (!feof(stdin)) {
        return ODS_E_TOOBIG;
    }
    return ODS_E_OK;
}

/* read_hidden prompts on stderr and reads a line from the terminal with echo off. */
static int
read_hidden(const char *prompt, char *buf, size_t n, size_t *len)
{
    struct termios old, quiet;
    int rc;

    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return ODS_E_IO;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        return ODS_E_IO;
    rc = read_line(buf, n, len);
    /* XXX: an interrupt while prompting leaves echo off, as with most such tools */
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    return rc;
}

static int
password_check(int rc, size_t len)
{
    if (rc == ODS_E_IO)
        return cli_fail("no password given");
    if (rc == ODS_E_TOOBIG || len > PASSWORD_MAX)
        return cli_fail("password longer than %d bytes", PASSWORD_MAX);
    if (len == 0)
        return cli_fail("empty password refused");
    return CLI_EXIT_OK;
}

/* password_read gets the new password: twice from a terminal, once from stdin.
 * Returns an exit status; pw holds the password on success. */
static int
password_read(bool from_stdin, char pw[PASSWORD_LINE_MAX], size_t *len)
{
    char again[PASSWORD_LINE_MAX];
    size_t again_len = 0;
    int rc;

    if (from_stdin || !isatty(STDIN_FILENO)) {
        rc = read_line(pw, PASSWORD_LINE_MAX, len);
        return password_check(rc, *len);
    }
    rc = read_hidden("Password: ", pw, PASSWORD_LINE_MAX, len);
    if ((rc = password_check(rc, *len)) != CLI_EXIT_OK)
        goto out;
    rc = read_hidden("Password (again): ", again, sizeof(again), &again_len);
    if (rc != ODS_E_OK || again_len != *len || memcmp(pw, again, *len) != 0)
        rc = cli_fail("passwords do not match");
    else
        rc = CLI_EXIT_OK;
out:
    explicit_bzero(again, sizeof(again));
    return rc;
}

/* password_new reads a password and hashes it into hash. Returns an exit status. */
static int
password_new(bool from_stdin, char hash[PASSWORD_HASH_MAX])
{
    char pw[PASSWORD_LINE_MAX];
    size_t len = 0;
    int rc = password_read(from_stdin, pw, &len);

    if (rc == CLI_EXIT_OK && (rc = password_hash(pw, len, hash)) != ODS_E_OK)
        rc = cli_fail("cannot hash the password: %s", err_msg(rc));
    explicit_bzero(pw, sizeof(pw));
    return rc;
}

static int
user_add(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1], *role_s = NULL;
    bool from_stdin = false;
    const struct cli_opt opts[] = {
        { "--role", &role_s, NULL }, { "--password-stdin", NULL, &from_stdin },
    };
    char hash[PASSWORD_HASH_MAX];
    struct user existing;
    store_t *st = NULL;
    int role = 0;
    int rc = cli_parse(call, argc, argv, opts, 2, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if (role_s == NULL)
        return cli_usage_error("missing --role (manager, scanner or reader)");
    if ((rc = name_check(pos[0])) != CLI_EXIT_OK || (rc = role_arg(role_s, &role)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    /* say so before asking for a password that would be thrown away */
    if (store_user_get(st, pos[0], &existing) == ODS_E_OK) {
        rc = cli_store_fail(ODS_E_EXISTS, "user '%s'", pos[0]);
        goto out;
    }
    if ((rc = password_new(from_stdin, hash)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_user_add(st, pos[0], hash, role)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "user '%s'", pos[0]);
        goto out;
    }
    printf("user '%s' added with role %s\n", pos[0], role_name(role));
    rc = CLI_EXIT_OK;
out:
    explicit_bzero(hash, sizeof(hash));
    store_close(st);
    return rc;
}

static int
user_list(const struct cli_call *call, int argc, char **argv)
{
    bool json = false;
    const struct cli_opt opts[] = { { "--json", NULL, &json } };
    struct user *users = NULL;
    size_t n = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_user_list(st, &users, &n)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "listing users");
        goto out;
    }
    rc = cli_emit(&user_view, users, sizeof(*users), n, json);
out:
    free(users);
    store_close(st);
    return rc;
}

static int
user_passwd(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1];
    bool from_stdin = false;
    const struct cli_opt opts[] = { { "--password-stdin", NULL, &from_stdin } };
    char hash[PASSWORD_HASH_MAX];
    struct user u;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_user_get(st, pos[0], &u)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "user '%s'", pos[0]);
        goto out;
    }
    if ((rc = password_new(from_stdin, hash)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_user_set_password(st, pos[0], hash)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "user '%s'", pos[0]);
        goto out;
    }
    printf("password of user '%s' changed\n", pos[0]);
    rc = CLI_EXIT_OK;
out:
    explicit_bzero(hash, sizeof(hash));
    explicit_bzero(&u, sizeof(u));
    store_close(st);
    return rc;
}

static int
user_del(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1];
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, NULL, 0, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_user_del(st, pos[0])) != ODS_E_OK) {
        rc = cli_store_fail(rc, "user '%s'", pos[0]);
        goto out;
    }
    printf("user '%s' deleted\n", pos[0]);
out:
    store_close(st);
    return rc;
}

static int
user_role(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[2];
    store_t *st = NULL;
    int role = 0;
    int rc = cli_parse(call, argc, argv, NULL, 0, pos, 2);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = role_arg(pos[1], &role)) != CLI_EXIT_OK ||
        (rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_user_set_role(st, pos[0], role)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "user '%s'", pos[0]);
        goto out;
    }
    printf("user '%s' now has role %s\n", pos[0], role_name(role));
out:
    store_close(st);
    return rc;
}

/* user_scope shows a user's scope, or with --tags replaces it ('' clears it). */
static int
user_scope(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1], *tags = NULL;
    const struct cli_opt opts[] = { { "--tags", &tags, NULL } };
    int64_t ids[PRINCIPAL_SCOPE_MAX];
    struct tag *cur = NULL;
    size_t n = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 1, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if (tags != NULL) {
        if ((rc = cli_tag_ids(st, tags, ids, PRINCIPAL_SCOPE_MAX, &n)) != CLI_EXIT_OK)
            goto out;
        if ((rc = store_user_set_scope(st, pos[0], ids, n)) != ODS_E_OK) {
            rc = cli_store_fail(rc, "user '%s'", pos[0]);
            goto out;
        }
    }
    if ((rc = store_user_scope(st, pos[0], &cur, &n)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "user '%s'", pos[0]);
        goto out;
    }
    printf("user '%s' scope: ", pos[0]);
    if (n == 0)
        printf("all assets\n");
    for (size_t i = 0; i < n; i++)
        printf("%s%s", cur[i].name, i + 1 < n ? "," : "\n");
    rc = CLI_EXIT_OK;
out:
    free(cur);
    store_close(st);
    return rc;
}

/* limit_arg parses one limit option (NULL: keep *v). */
static int
limit_arg(const char *opt, const char *s, int *v)
{
    uint64_t x;

    if (s == NULL)
        return CLI_EXIT_OK;
    if (parse_u64(s, USER_LIMIT_MAX, &x) != ODS_E_OK)
        return cli_usage_error("invalid %s '%s' (want 0..%d, 0: the server's default)", opt, s,
            USER_LIMIT_MAX);
    *v = (int)x;
    return CLI_EXIT_OK;
}

/* user_limits shows a user's limits, or with options changes them. */
static int
user_limits(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1], *calls = NULL, *window = NULL, *conc = NULL;
    const struct cli_opt opts[] = {
        { "--calls", &calls, NULL }, { "--window", &window, NULL },
        { "--concurrency", &conc, NULL },
    };
    struct user_limits l = { 0 };
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_user_limits(st, pos[0], &l)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "user '%s'", pos[0]);
        goto out;
    }
    if (calls != NULL || window != NULL || conc != NULL) {
        if ((rc = limit_arg("--calls", calls, &l.calls)) != CLI_EXIT_OK ||
            (rc = limit_arg("--window", window, &l.window_s)) != CLI_EXIT_OK ||
            (rc = limit_arg("--concurrency", conc, &l.concurrency)) != CLI_EXIT_OK)
            goto out;
        if ((rc = store_user_set_limits(st, pos[0], &l)) != ODS_E_OK) {
            rc = cli_store_fail(rc, "user '%s'", pos[0]);
            goto out;
        }
    }
    printf("user '%s' limits: calls %d, window %d s, concurrency %d (0: server default)\n",
        pos[0], l.calls, l.window_s, l.concurrency);
    rc = CLI_EXIT_OK;
out:
    store_close(st);
    return rc;
}

static const struct cli_command user_commands[] = {
    { "add",    user_add,    "NAME --role manager|scanner|reader [--password-stdin]",
      "Create a user; the password is asked twice on a terminal, else read from stdin." },
    { "list",   user_list,   "[--json]",
      "List users by name (never their password hashes)." },
    { "passwd", user_passwd, "NAME [--password-stdin]",
      "Set a user's password; this also lifts a lockout." },
    { "del",    user_del,    "NAME",
      "Delete a user." },
    { "role",   user_role,   "NAME manager|scanner|reader",
      "Change a user's role." },
    { "scope",  user_scope,  "NAME [--tags A,B]",
      "Show or set the tags limiting which assets a scanner or reader sees ('' clears; "
      "managers see every asset)." },
    { "limits", user_limits, "NAME [--calls N] [--window S] [--concurrency C]",
      "Show or set the user's API limits per endpoint family (0: the server's default)." },
};

const struct cli_group cmd_user_group = {
    "user", user_commands, sizeof(user_commands) / sizeof(user_commands[0]),
    "API users, their roles and passwords",
};
