/* config.c - odscand settings from defaults, an optional config file and flags.
 * One table describes every setting; the file uses the flag names without dashes
 * ("listen = 127.0.0.1:8443"), so the two can never drift apart. */
#include "config.h"
#include "err.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_kind { OPT_STR, OPT_BOOL, OPT_UINT, OPT_LEVEL };

struct option_row {
    const char    *name;     /* flag without "--", and config file key */
    enum opt_kind  kind;
    size_t         offset;
    size_t         size;     /* OPT_STR: field size */
    unsigned       min, max; /* OPT_UINT */
    const char    *help;
};

#define STR(f, h)   { #f, OPT_STR, offsetof(struct server_config, f), \
                      sizeof(((struct server_config *)0)->f), 0, 0, h }
#define UINT(name, f, lo, hi, h) { name, OPT_UINT, offsetof(struct server_config, f), 0, lo, hi, h }

static const struct option_row options[] = {
    { "state-dir", OPT_STR, offsetof(struct server_config, state_dir), PATH_MAX, 0, 0,
      "directory for the database, TLS files and state (required)" },
    STR(listen, "address:port to listen on (default 127.0.0.1:8443)"),
    STR(db, "database URL: sqlite:PATH or postgresql://USER@HOST/DB (default sqlite:STATE_DIR/odscan.db)"),
    { "tls-cert", OPT_STR, offsetof(struct server_config, tls_cert), PATH_MAX, 0, 0,
      "PEM certificate (default: self-signed STATE_DIR/tls/cert.pem)" },
    { "tls-key", OPT_STR, offsetof(struct server_config, tls_key), PATH_MAX, 0, 0,
      "PEM private key for --tls-cert" },
    { "public-url", OPT_STR, offsetof(struct server_config, public_url), 512, 0, 0,
      "base URL clients use, for schema locations (default from --listen)" },
    { "insecure-http", OPT_BOOL, offsetof(struct server_config, insecure_http), 0, 0, 0,
      "serve plain HTTP (only allowed on a loopback address)" },
    { "log-level", OPT_LEVEL, offsetof(struct server_config, log_level), 0, 0, 0,
      "debug, info, warn or error (default info)" },
    UINT("threads", threads, 1, 64, "HTTP worker threads (default 2)"),
    UINT("batch-max", batch_max, 1, 100000, "launches per group commit (default 4096)"),
    UINT("connection-limit", connection_limit, 16, 1000000, "open connections (default 16000)"),
    UINT("lockout-failures", lockout_failures, 1, 1000000,
         "failed logins that lock an account (default 10)"),
    UINT("lockout-window", lockout_window_s, 1, 86400 * 30,
         "seconds in which those failures count (default 600)"),
    UINT("lockout-duration", lockout_duration_s, 1, 86400 * 30,
         "seconds an account stays locked (default 900)"),
    UINT("job-expiry", job_expiry_s, 60, 86400 * 365,
         "seconds a queued job waits for its agent before it expires (default 86400)"),
    UINT("auth-cache-ttl", auth_cache_ttl_s, 0, 86400, "seconds verified credentials are cached (default 60)"),
    UINT("rate-calls", rate_calls, 1, 1000000000,
         "API calls a user may make per window and endpoint family (default 600000)"),
    UINT("rate-window", rate_window_s, 1, 86400 * 30,
         "seconds of the sliding rate-limit window (default 3600)"),
    UINT("rate-concurrency", rate_concurrency, 1, 1000000,
         "API requests a user may have running at once per endpoint family (default 1000)"),
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

void
config_defaults(struct server_config *c)
{
    memset(c, 0, sizeof(*c));
    str_copy(c->listen, sizeof(c->listen), "127.0.0.1:8443");
    c->log_level = LOG_INFO;
    c->threads = 2;
    c->batch_max = 4096;
    c->connection_limit = 16000;
    c->lockout_failures = 10;
    c->lockout_window_s = 600;
    c->lockout_duration_s = 900;
    c->auth_cache_ttl_s = 60;
    c->job_expiry_s = 86400;
    c->rate_calls = 600000;
    c->rate_window_s = 3600;
    c->rate_concurrency = 1000;
}

void
config_usage(const char *prog)
{
    printf("usage: %s --state-dir DIR [options]\n\noptions (also as `name = value` in --config FILE):\n", prog);
    printf("  --%-18s %s\n", "config FILE", "read settings from FILE; flags override it");
    for (size_t i = 0; i < OPTION_COUNT; i++)
        printf("  --%-18s %s\n", options[i].name, options[i].help);
    printf("  --%-18s %s\n  --%-18s %s\n", "help", "print this and exit", "version", "print the version and exit");
}

static const struct option_row *
option_find(const char *name)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

/* option_set stores value (NULL for a bare boolean flag) into the field of row. */
static int
option_set(struct server_config *c, const struct option_row *row, const char *value,
    char *err, size_t n)
{
    char *field = (char *)c + row->offset;
    uint64_t v;
    bool b;

    switch (row->kind) {
    case OPT_STR:
        if (value == NULL || str_copy(field, row->size, value) != 0) {
            snprintf(err, n, "--%s: %s", row->name, value == NULL ? "needs a value" : "value too long");
            return ODS_E_INVAL;
        }
        return ODS_E_OK;
    case OPT_BOOL:
        if (value == NULL) {
            *(bool *)field = true;
            return ODS_E_OK;
        }
        if (parse_bool(value, &b) != 0) {
            snprintf(err, n, "--%s: '%s' is not true/false", row->name, value);
            return ODS_E_INVAL;
        }
        *(bool *)field = b;
        return ODS_E_OK;
    case OPT_UINT:
        if (value == NULL || parse_u64(value, row->max, &v) != 0 || v < row->min) {
            snprintf(err, n, "--%s: expects a number from %u to %u", row->name, row->min, row->max);
            return ODS_E_INVAL;
        }
        *(unsigned *)field = (unsigned)v;
        return ODS_E_OK;
    case OPT_LEVEL:
        if (value == NULL || log_parse_level(value, (enum log_level *)(void *)field) != 0) {
            snprintf(err, n, "--%s: expects debug, info, warn or error", row->name);
            return ODS_E_INVAL;
        }
        return ODS_E_OK;
    }
    return ODS_E_INVAL;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

static int
config_load_file(struct server_config *c, const char *path, char *err, size_t n)
{
    char line[CONFIG_LINE_MAX];
    unsigned lineno = 0;
    int rc = ODS_E_OK;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        snprintf(err, n, "cannot open config file %s: %s", path, strerror(errno));
        return ODS_E_INVAL;
    }
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, n, "%s:%u: line too long", path, lineno);
            rc = ODS_E_INVAL;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq != NULL)
            *eq = '\0';
        char *key = trim(s);
        const struct option_row *row = option_find(key);
        if (row == NULL) {
            snprintf(err, n, "%s:%u: unknown setting '%s'", path, lineno, key);
            rc = ODS_E_INVAL;
            break;
        }
        char sub[512];
        rc = option_set(c, row, eq ? trim(eq + 1) : NULL, sub, sizeof(sub));
        if (rc != 0)
            snprintf(err, n, "%s:%u: %s", path, lineno, sub);
    }
    fclose(f);
    return rc;
}

int
config_load_args(struct server_config *c, int argc, char **argv, char *err, size_t n)
{
    /* The config file first, wherever --config stands, so flags override it. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, n, "--config needs a file");
                return ODS_E_INVAL;
            }
            int rc = config_load_file(c, argv[i + 1], err, n);
            if (rc != 0)
                return rc;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            config_usage(argv[0]);
            return 1;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("odscand %s\n", ODSCAN_VERSION);
            return 1;
        }
        if (strcmp(arg, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, n, "unexpected argument '%s'", arg);
            return ODS_E_INVAL;
        }
        char name[64];
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (len >= sizeof(name)) {
            snprintf(err, n, "unknown option '%s'", arg);
            return ODS_E_INVAL;
        }
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        const struct option_row *row = option_find(name);
        if (row == NULL) {
            snprintf(err, n, "unknown option '--%s' (see --help)", name);
            return ODS_E_INVAL;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL && row->kind != OPT_BOOL) {
            if (i + 1 >= argc) {
                snprintf(err, n, "--%s needs a value", name);
                return ODS_E_INVAL;
            }
            value = argv[++i];
        }
        int rc = option_set(c, row, value, err, n);
        if (rc != 0)
            return rc;
    }
    if (c->state_dir[0] == '\0') {
        snprintf(err, n, "--state-dir is required (see --help)");
        return ODS_E_INVAL;
    }
    if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
        snprintf(err, n, "--tls-cert and --tls-key go together");
        return ODS_E_INVAL;
    }
    return ODS_E_OK;
}
