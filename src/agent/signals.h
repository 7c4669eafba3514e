/* signals.h - the agent's stop request: SIGTERM and SIGINT set a flag that the
 * check-in loop, the HTTP client and the scan runner poll. */
#ifndef ODSCAN_AGENT_SIGNALS_H
#define ODSCAN_AGENT_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

/* signals_install sets the SIGTERM/SIGINT handlers (no SA_RESTART) and ignores
 * SIGPIPE. Returns 0 or ODS_E_IO. */
int signals_install(void);
/* signals_stop_requested tells whether a stop signal arrived. */
bool signals_stop_requested(void);
/* signals_sleep_ms sleeps ms milliseconds or until a stop is requested; returns
 * false when it was cut short by a stop. */
bool signals_sleep_ms(int64_t ms);

#endif
