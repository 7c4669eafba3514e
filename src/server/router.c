/* router.c - the route table of odscand. */
#include "router.h"
#include "api.h"

#include <string.h>

static const struct route routes[] = {
    /* method, path, param, roles, handler, resume */
    { "POST", "/qps/rest/1.0/ods/ca/agentasset/", true,  ROLES_LAUNCH,
      api_ods_launch, api_ods_launch_done },
    { "POST", "/qps/rest/1.0/ods/ca/agentasset",  false, ROLES_LAUNCH,
      api_ods_launch_bulk, NULL },
    { "GET",  "/qps/xsd/1.0/ca/agentasset.xsd",   false, 0, api_meta_xsd, NULL },
    { "GET",  "/healthz",                         false, 0, api_meta_health, NULL },
};
#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

/* path_matches tells whether path fits the row, and finds the variable segment. */
static bool
path_matches(const struct route *rt, const char *path, const char **param)
{
    size_t len = strlen(rt->path);

    if (!rt->param) {
        *param = NULL;
        return strcmp(path, rt->path) == 0;
    }
    if (strncmp(path, rt->path, len) != 0 || path[len] == '\0' || strchr(path + len, '/') != NULL)
        return false;
    *param = path + len;
    return true;
}

const struct route *
router_match(const char *method, const char *path, const char **param, char *allow, size_t n)
{
    size_t used = 0;

    if (n > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const char *p;
        if (!path_matches(&routes[i], path, &p))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            *param = p;
            return &routes[i];
        }
        size_t mlen = strlen(routes[i].method);
        if (used + mlen + 3 < n) {
            if (used > 0) {
                memcpy(allow + used, ", ", 2);
                used += 2;
            }
            memcpy(allow + used, routes[i].method, mlen + 1);
            used += mlen;
        }
    }
    *param = NULL;
    return NULL;
}
