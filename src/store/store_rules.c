/* store_rules.c - the domain rules every storage backend applies the same way, kept
 * in one place: whether an activation key may enroll another agent, and the asset an
 * enrollment creates. Pure functions: no database. */
#include "store_impl.h"
#include "err.h"
#include "util.h"

#include <string.h>

int
store_key_check(const struct actkey *k, int64_t now, const char **why)
{
    const char *reason = NULL;

    if (k->revoked)
        reason = "activation key revoked";
    else if (k->expires_ms != 0 && now >= k->expires_ms)
        reason = "activation key expired";
    else if (k->max_uses != 0 && k->uses >= k->max_uses)
        reason = "activation key has no uses left";
    if (reason == NULL)
        return ODS_E_OK;
    *why = reason;
    return ODS_E_PERM;
}

int
store_enrollment_asset(const struct enrollment *e, const struct actkey *k, struct asset *a)
{
    const struct {
        char       *dst;
        size_t      n;
        const char *src;
    } fields[] = {
        { a->agent_uuid, sizeof(a->agent_uuid), e->uuid },
        { a->hostname, sizeof(a->hostname), e->hostname },
        { a->os_family, sizeof(a->os_family), e->os_family },
        { a->fqdn, sizeof(a->fqdn), e->fqdn },
        { a->os_name, sizeof(a->os_name), e->os_name },
        { a->os_version, sizeof(a->os_version), e->os_version },
        { a->arch, sizeof(a->arch), e->arch },
        { a->machine_id, sizeof(a->machine_id), e->machine_id },
        { a->agent_version, sizeof(a->agent_version), e->agent_version },
        { a->last_address, sizeof(a->last_address), e->remote },
    };

    memset(a, 0, sizeof(*a));
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (str_copy(fields[i].dst, fields[i].n, fields[i].src != NULL ? fields[i].src : "") != 0)
            return ODS_E_INVAL;
    a->modules = k->modules;
    a->key_id = k->id;
    a->created_ms = a->updated_ms = e->now_ms;
    return ODS_E_OK;
}
