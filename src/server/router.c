/* router.c - the route table of odscand. */
#include "router.h"
#include "api.h"

#include "qps_filter.h"

#include <string.h>
#define KB_BODY_MAX    (256u * 1024 * 1024)  /* a knowledge-base import (a zip, a tracker export) */
#define ROLES_MANAGER  ROLE_BIT(ROLE_MANAGER)

#define AGENT_BODY_MAX (16u * 1024 * 1024)   /* scan results */
#define FILTER_BODY    QPS_FILTER_BODY_MAX
#define ROLES_MANAGER  ROLE_BIT(ROLE_MANAGER)

static const struct route routes[] = {
    /* QPS API, for users */
    { "POST", "/qps/rest/1.0/ods/ca/agentasset/{}", AUTH_USER, ROLES_LAUNCH, STYLE_QPS, 0,
      api_ods_launch, api_ods_launch_done, RATE_LAUNCH },
    { "POST", "/qps/rest/1.0/ods/ca/agentasset", AUTH_USER, ROLES_LAUNCH, STYLE_QPS,
      FILTER_BODY, api_ods_launch_bulk, api_ods_launch_bulk_done, RATE_LAUNCH },
    { "POST", "/qps/rest/2.0/search/am/hostasset", AUTH_USER, ROLES_ANY_USER, STYLE_QPS,
      FILTER_BODY, api_asset_search, NULL, RATE_SEARCH },
    { "POST", "/qps/rest/2.0/count/am/hostasset", AUTH_USER, ROLES_ANY_USER, STYLE_QPS,
      FILTER_BODY, api_asset_count, NULL, RATE_SEARCH },
    { "GET", "/qps/rest/2.0/get/am/hostasset/{}", AUTH_USER, ROLES_ANY_USER, STYLE_QPS, 0,
      api_asset_get, NULL, RATE_SEARCH },
    { "POST", "/qps/rest/2.0/activate/am/asset/{}", AUTH_USER, ROLES_MANAGER, STYLE_QPS, 0,
      api_module_activate, NULL, RATE_ACTIVATION },
    { "POST", "/qps/rest/2.0/activate/am/asset", AUTH_USER, ROLES_MANAGER, STYLE_QPS,
      FILTER_BODY, api_module_activate, NULL, RATE_ACTIVATION },
    { "POST", "/qps/rest/2.0/deactivate/am/asset/{}", AUTH_USER, ROLES_MANAGER, STYLE_QPS, 0,
      api_module_deactivate, NULL, RATE_ACTIVATION },
    { "POST", "/qps/rest/2.0/deactivate/am/asset", AUTH_USER, ROLES_MANAGER, STYLE_QPS,
      FILTER_BODY, api_module_deactivate, NULL, RATE_ACTIVATION },
    { "POST", "/qps/rest/2.0/create/am/tag", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_tag_create, NULL, RATE_TAGS },
    { "POST", "/qps/rest/2.0/update/am/tag/{}", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_tag_update, NULL, RATE_TAGS },
    { "POST", "/qps/rest/2.0/delete/am/tag/{}", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_tag_delete, NULL, RATE_TAGS },
    { "POST", "/qps/rest/2.0/search/am/tag", AUTH_USER, ROLES_ANY_USER, STYLE_QPS, 0,
      api_tag_search, NULL, RATE_TAGS },
    { "GET", "/qps/rest/2.0/get/am/tag/{}", AUTH_USER, ROLES_ANY_USER, STYLE_QPS, 0,
      api_tag_get, NULL, RATE_TAGS },
    { "POST", "/qps/rest/2.0/update/am/asset/{}", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_asset_update_tags, NULL, RATE_TAGS },
    { "POST", "/qps/rest/1.0/create/ca/agentactkey", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_key_create, NULL, RATE_KEYS },
    { "POST", "/qps/rest/1.0/search/ca/agentactkey", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_key_search, NULL, RATE_KEYS },
    { "GET", "/qps/rest/1.0/get/ca/agentactkey/{}", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_key_get, NULL, RATE_KEYS },
    { "POST", "/qps/rest/1.0/update/ca/agentactkey/{}", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_key_update, NULL, RATE_KEYS },
    { "POST", "/qps/rest/1.0/delete/ca/agentactkey/{}", AUTH_USER, ROLES_MANAGE, STYLE_QPS, 0,
      api_key_delete, NULL, RATE_KEYS },
    { "GET", "/qps/xsd/1.0/ca/agentasset.xsd", AUTH_NONE, 0, STYLE_QPS, 0, api_meta_xsd, NULL,
      RATE_OTHER },
    { "GET", "/healthz", AUTH_NONE, 0, STYLE_JSON, 0, api_meta_health, NULL, RATE_OTHER },
    /* JSON API, for users */
    { "GET", "/api/v1/assets/{}/vulns", AUTH_USER, ROLES_ANY_USER, STYLE_JSON, 0,
      api_vuln_asset, NULL, RATE_JOBS },
    { "GET", "/api/v1/vulns/summary", AUTH_USER, ROLES_ANY_USER, STYLE_JSON, 0,
      api_vuln_summary, NULL, RATE_JOBS },
    { "GET", "/api/v1/vulns/{}/assets", AUTH_USER, ROLES_ANY_USER, STYLE_JSON, 0,
      api_vuln_who, NULL, RATE_JOBS },
    { "POST", "/api/v1/kb/import", AUTH_USER, ROLES_MANAGER, STYLE_JSON, KB_BODY_MAX,
      api_kb_import, api_kb_import_done, RATE_OTHER },
    { "GET", "/api/v1/jobs/{}", AUTH_USER, ROLES_ANY_USER, STYLE_JSON, 0, api_jobs_get, NULL,
      RATE_JOBS },
    { "GET", "/api/v1/jobs/{}/result", AUTH_USER, ROLES_ANY_USER, STYLE_JSON, 0,
      api_jobs_result, NULL, RATE_JOBS },
    { "GET", "/api/v1/assets/{}/jobs", AUTH_USER, ROLES_ANY_USER, STYLE_JSON, 0,
      api_assets_jobs, NULL, RATE_JOBS },
    { "GET", "/api/v1/assets/{}/inventory", AUTH_USER, ROLES_ANY_USER, STYLE_JSON, 0,
      api_assets_inventory, NULL, RATE_JOBS },
    /* agent protocol (agents are not rate limited: their pace is the profile's) */
    { "POST", "/agent/v1/enroll", AUTH_NONE, 0, STYLE_JSON, 0, api_agent_enroll, NULL,
      RATE_OTHER },
    { "POST", "/agent/v1/checkin", AUTH_AGENT, 0, STYLE_JSON, 0,
      api_agent_checkin, api_agent_checkin_done, RATE_OTHER },
    { "POST", "/agent/v1/jobs/{}/start", AUTH_AGENT, 0, STYLE_JSON, 0,
      api_agent_job_start, api_agent_job_done, RATE_OTHER },
    { "POST", "/agent/v1/jobs/{}/heartbeat", AUTH_AGENT, 0, STYLE_JSON, 0,
      api_agent_job_heartbeat, api_agent_job_done, RATE_OTHER },
    { "POST", "/agent/v1/jobs/{}/result", AUTH_AGENT, 0, STYLE_JSON, AGENT_BODY_MAX,
      api_agent_job_result, api_agent_job_done, RATE_OTHER },
};
#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

/* path_matches compares path with a pattern in which "{}" matches one non-empty
 * segment, copying the segments into seg[]. */
static bool
path_matches(const char *pattern, const char *path, char seg[][HTTP_SEGMENT_MAX], size_t *nseg)
{
    size_t n = 0;

    while (*pattern != '\0') {
        if (pattern[0] == '{' && pattern[1] == '}') {
            size_t len = strcspn(path, "/");
            if (len == 0 || len >= HTTP_SEGMENT_MAX || n >= ROUTE_PARAMS_MAX)
                return false;
            memcpy(seg[n], path, len);
            seg[n][len] = '\0';
            n++;
            path += len;
            pattern += 2;
            continue;
        }
        if (*pattern != *path)
            return false;
        pattern++;
        path++;
    }
    if (*path != '\0')
        return false;
    *nseg = n;
    return true;
}

const struct route *
router_match(const char *method, const char *path, char seg[][HTTP_SEGMENT_MAX],
    size_t *nparams, char *allow, size_t n)
{
    size_t used = 0;

    if (n > 0)
        allow[0] = '\0';
    *nparams = 0;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        size_t nseg;
        if (!path_matches(routes[i].path, path, seg, &nseg))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            *nparams = nseg;
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
    return NULL;
}
