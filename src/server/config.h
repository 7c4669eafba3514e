/* config.h - odscand's settings: defaults, a `key = value` config file, and command
 * line flags, in that order of precedence (flags win). */
#ifndef ODSCAN_CONFIG_H
#define ODSCAN_CONFIG_H

#include "log.h"

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define CONFIG_LINE_MAX 4096

struct server_config {
    char           state_dir[PATH_MAX];
    char           listen[256];          /* ADDR:PORT, [v6]:PORT */
    char           db[1024];             /* store URL; empty: sqlite:STATE_DIR/odscan.db */
    char           tls_cert[PATH_MAX];
    char           tls_key[PATH_MAX];
    char           public_url[512];      /* empty: derived from scheme and listen */
    bool           insecure_http;
    enum log_level log_level;
    unsigned       threads;              /* libmicrohttpd thread pool size */
    unsigned       batch_max;            /* launches per group commit */
    unsigned       connection_limit;
    unsigned       lockout_failures;     /* failed logins that lock an account */
    unsigned       lockout_window_s;     /* ... inside this many seconds */
    unsigned       lockout_duration_s;   /* ... for this long */
    unsigned       auth_cache_ttl_s;     /* verified credentials are kept this long */
    unsigned       job_expiry_s;         /* a QUEUED job nobody picked up expires after this */
    unsigned       rate_calls;           /* default calls per user and endpoint family ... */
    unsigned       rate_window_s;        /* ... per this many seconds (sliding) */
    unsigned       rate_concurrency;     /* default requests at once per user and family */
};

/* config_defaults fills every field with its default. */
void config_defaults(struct server_config *c);
/* config_load_args applies --config FILE (when present) and then every flag of argv.
 * Returns 0; 1 when --help or --version was printed (the caller exits 0);
 * ODS_E_INVAL with a one-line reason in err (size n) on a bad flag, file or value. */
int config_load_args(struct server_config *c, int argc, char **argv, char *err, size_t n);
/* config_usage prints the flags to stdout. */
void config_usage(const char *prog);

#endif
