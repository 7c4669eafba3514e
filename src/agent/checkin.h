/* checkin.h - the agent's main loop: enroll when there is no identity, then forever
 * flush the result spool, long-poll /agent/v1/checkin and run the jobs handed out
 * (start, scan with heartbeats, spool, upload), backing off on failures. */
#ifndef ODSCAN_AGENT_CHECKIN_H
#define ODSCAN_AGENT_CHECKIN_H

#include "agent_client.h"
#include "identity.h"

#include <stdbool.h>
#include <stdint.h>

#define CHECKIN_BACKOFF_BASE_MS 1000
#define CHECKIN_BACKOFF_CAP_MS  60000
#define CHECKIN_HOLD_MARGIN_S   15   /* the long poll waits checkin_hold_s + this */

struct checkin_config {
    agent_client_t *client;
    const char     *server;          /* base URL, recorded in a new identity */
    const char     *state_dir;
    const char     *activation_key;  /* used only when !enrolled */
    struct identity identity;        /* valid when enrolled */
    bool            enrolled;
};

/* checkin_run runs until a stop is requested (signals.h) and then returns 0; a scan
 * running at that moment is killed and its job left to the server's lease expiry.
 * Returns ODS_E_AUTH when the activation key is refused, or ODS_E_IO when the new
 * identity cannot be saved. Logs what it does. */
int checkin_run(struct checkin_config *cfg);

/* checkin_backoff_ms is the full-jitter delay before retry number attempt (0-based):
 * uniform in [0, min(cap, base * 2^attempt)] milliseconds. */
int64_t checkin_backoff_ms(unsigned attempt);

#endif
