/* scan.c - the scan type and module tables. */
#include "scan.h"
#include "err.h"

#include <string.h>
#include <strings.h>

static const struct scan_type_info scan_types[SCAN_TYPE_COUNT] = {
    { SCAN_INVENTORY,         "Inventory_Scan",        "Inventory Scan",          MOD_NONE, NULL },
    { SCAN_VULNERABILITY,     "Vulnerability_Scan",    "Vulnerability Scan",      MOD_VM,   "VM" },
    { SCAN_POLICY_COMPLIANCE, "PolicyCompliance_Scan", "Policy Compliance Scan",  MOD_PC,   "PC" },
    { SCAN_UDC,               "UDC_Scan",              "UDC Scan",                MOD_PC | MOD_UDC, "PC or UDC" },
    { SCAN_SCA,               "SCA_Scan",              "SCA Scan",                MOD_SCA,  "SCA" },
    { SCAN_SWCA,              "SWCA_scan",             "SwCA Scan",               MOD_SWCA, "SWCA" },
};

static const struct {
    const char *name;
    unsigned    bit;
} modules[] = {
    { "VM", MOD_VM }, { "PC", MOD_PC }, { "SCA", MOD_SCA }, { "SWCA", MOD_SWCA }, { "UDC", MOD_UDC },
};

const struct scan_type_info *
scan_type_parse(const char *value)
{
    for (int i = 0; i < SCAN_TYPE_COUNT; i++)
        if (strcasecmp(value, scan_types[i].param) == 0)
            return &scan_types[i];
    return NULL;
}

const struct scan_type_info *
scan_type_get(int type)
{
    if (type < 0 || type >= SCAN_TYPE_COUNT)
        return NULL;
    return &scan_types[type];
}

const char *
scan_type_list(void)
{
    return "Inventory_Scan, Vulnerability_Scan, PolicyCompliance_Scan, UDC_Scan, SCA_Scan, SWCA_scan";
}

int
module_parse_list(const char *s, unsigned *out, const char **bad)
{
    unsigned mods = 0;
    const char *p = s;

    while (*p != '\0') {
        const char *start = p;
        size_t len = strcspn(p, ",");
        const char *name = start;
        size_t nlen = len;
        if (nlen > 6 && strncasecmp(name, "AGENT_", 6) == 0) {
            name += 6;
            nlen -= 6;
        }
        bool found = false;
        for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
            if (strlen(modules[i].name) == nlen && strncasecmp(name, modules[i].name, nlen) == 0) {
                mods |= modules[i].bit;
                found = true;
                break;
            }
        }
        if (!found) {
            if (bad != NULL)
                *bad = start;
            return ODS_E_PARSE;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    *out = mods;
    return ODS_E_OK;
}

void
module_format(unsigned mods, char *dst, unsigned long n)
{
    size_t used = 0;

    if (n == 0)
        return;
    dst[0] = '\0';
    for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
        if (!(mods & modules[i].bit))
            continue;
        size_t len = strlen(modules[i].name);
        size_t sep = used ? 1 : 0;
        if (used + sep + len + 1 > n)
            break;
        if (sep)
            dst[used++] = ',';
        memcpy(dst + used, modules[i].name, len);
        used += len;
        dst[used] = '\0';
    }
}
