/* diag.h - operator commands that need no server: run one scan locally, and burn
 * CPU in a scan child to check the CPU limit on this host. Both go through the same
 * runner and CPU control as a scan handed out by the server. */
#ifndef ODSCAN_AGENT_DIAG_H
#define ODSCAN_AGENT_DIAG_H

#include <stdio.h>

struct diag_cpu {
    unsigned cpu_limit;     /* 2..100 */
    unsigned cpu_throttle;  /* 0..1000 */
};

/* diag_scan runs the scan type named type_param (e.g. "Inventory_Scan") and writes
 * its JSON to out. Returns 0; ODS_E_INVAL for an unknown type, ODS_E_UNSUPPORTED for
 * a type this agent does not implement, ODS_E_IO when the scan failed or out could not
 * be written — each with a one-line reason in err (size n). */
int diag_scan(const char *type_param, const struct diag_cpu *cpu, FILE *out, char *err, size_t n);
/* diag_cpu_burn hashes a buffer in a scan child for `seconds` of wall time under the
 * CPU control and writes {"wall_s","cpu_s","share_pct","method","cpu_limit",
 * "cpu_throttle"} to out. Returns 0 or a negative code with a reason in err. */
int diag_cpu_burn(unsigned seconds, const struct diag_cpu *cpu, FILE *out, char *err, size_t n);

#endif
