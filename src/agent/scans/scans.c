/* scans.c - the table of scan modules this agent version implements. */
#include "scans.h"

#include <stdio.h>

static const struct {
    enum scan_type type;
    scan_run_fn    run;   /* NULL: not implemented by this agent version */
} modules[SCAN_TYPE_COUNT] = {
    { SCAN_INVENTORY,         scan_inventory_run },
    { SCAN_VULNERABILITY,     scan_vulnerability_run },
    { SCAN_POLICY_COMPLIANCE, NULL },
    { SCAN_UDC,               NULL },
    { SCAN_SCA,               NULL },
    { SCAN_SWCA,              NULL },
};

scan_run_fn
scans_find(enum scan_type type)
{
    for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
        if (modules[i].type == type)
            return modules[i].run;
    return NULL;
}

void
scans_unsupported_reason(const char *param, char *dst, size_t n)
{
    int len = snprintf(dst, n, "%s is not supported by this agent version", param);

    if (len < 0 && n > 0)
        dst[0] = '\0';
}
