/* vercmp.c - dispatch from a version scheme to its comparator. */
#include "vercmp.h"

struct scheme_ops {
    int  (*cmp)(const char *a, const char *b);
    bool (*valid)(const char *s);
};

static bool
dpkg_valid(const char *s)
{
    struct vercmp_dpkg_parts parts;

    return vercmp_dpkg_parse(s, &parts) == 0;
}

/* rpm accepts nearly any string as a version; only the empty one is refused here. */
static bool
rpm_valid(const char *s)
{
    return s[0] != '\0';
}

static const struct scheme_ops schemes[] = {
    [VERCMP_DPKG] = { vercmp_dpkg_cmp, dpkg_valid },
    [VERCMP_RPM]  = { vercmp_rpm_cmp,  rpm_valid },
    [VERCMP_APK]  = { vercmp_apk_cmp,  vercmp_apk_valid },
};

int
vercmp(enum vercmp_scheme scheme, const char *a, const char *b)
{
    return schemes[scheme].cmp(a, b);
}

bool
vercmp_valid(enum vercmp_scheme scheme, const char *s)
{
    return schemes[scheme].valid(s);
}
