/* scan.h - the scan types and agent modules of the domain, as one table shared by
 * the server, the agent and the CLI. */
#ifndef ODSCAN_SCAN_H
#define ODSCAN_SCAN_H

#include <stdbool.h>

/* Agent modules, as bits of an asset's activated-module set. */
enum module {
    MOD_NONE = 0,
    MOD_VM   = 1 << 0,
    MOD_PC   = 1 << 1,
    MOD_SCA  = 1 << 2,
    MOD_SWCA = 1 << 3,
    MOD_UDC  = 1 << 4,
};
#define MOD_ALL (MOD_VM | MOD_PC | MOD_SCA | MOD_SWCA | MOD_UDC)

enum scan_type {
    SCAN_INVENTORY = 0,
    SCAN_VULNERABILITY,
    SCAN_POLICY_COMPLIANCE,
    SCAN_UDC,
    SCAN_SCA,
    SCAN_SWCA,
    SCAN_TYPE_COUNT
};

struct scan_type_info {
    enum scan_type type;
    const char *param;     /* the vendor's documented query value, e.g. "Inventory_Scan" */
    const char *module;    /* display name in responses, e.g. "Inventory Scan" */
    unsigned    needs;     /* module bits of which the asset must have one activated
                              (MOD_NONE: none) */
    const char *needs_name;/* that module's name as users write it, e.g. "VM" */
};

/* scan_type_parse matches a query value case-insensitively ("swca_scan" == "SWCA_scan").
 * Returns the table row or NULL for an unknown value. */
const struct scan_type_info *scan_type_parse(const char *value);
/* scan_type_get returns the row of a type; NULL when out of range. */
const struct scan_type_info *scan_type_get(int type);
/* scan_type_list writes the documented values separated by ", " (for error messages). */
const char *scan_type_list(void);

/* module_parse_list parses "VM,PC,..." (case-insensitive, also with an AGENT_ prefix)
 * into module bits. Returns 0 or ODS_E_PARSE with *bad pointing at the offending
 * name's start inside s. */
int module_parse_list(const char *s, unsigned *out, const char **bad);
/* module_format writes the module bits as "VM,PC" into dst (size n, >= 24 is enough). */
void module_format(unsigned mods, char *dst, unsigned long n);

#endif
