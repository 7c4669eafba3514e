/* agent.h - the agent daemon: start-up (identity, daemonizing, signals) and the
 * check-in loop it then runs until SIGTERM/SIGINT. */
#ifndef ODSCAN_AGENT_AGENT_H
#define ODSCAN_AGENT_AGENT_H

#include "log.h"

#include <stdbool.h>
#include <stddef.h>

#define AGENT_PROG    "odscan-agent"
#define AGENT_LOG     "agent.log"
#define AGENT_PIDFILE "agent.pid"

/* Exit codes of the program. */
#define AGENT_EXIT_OK      0
#define AGENT_EXIT_RUNTIME 1
#define AGENT_EXIT_USAGE   2

struct agent_config {
    const char    *server;          /* base URL, https:// (http:// only to loopback) */
    const char    *activation_key;  /* needed only before the first enrollment */
    const char    *state_dir;
    const char    *ca_cert;         /* PEM trust anchor; NULL: the system store */
    bool           foreground;
    enum log_level log_level;
};

/* agent_run loads or prepares the identity, daemonizes unless cfg->foreground, and
 * runs the check-in loop until a stop signal. Errors before daemonizing are written
 * into err (size n), one line, and returned: ODS_E_INVAL (a usage error: missing
 * activation key, bad server URL) or another negative code (runtime). Returns 0 after
 * a clean stop. */
int agent_run(const struct agent_config *cfg, char *err, size_t n);

#endif
