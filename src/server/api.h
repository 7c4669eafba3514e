/* api.h - the API handlers, one api_<resource>.c file per resource. Each takes a
 * request whose body is complete and whose caller is authenticated as its route
 * requires, and fills the reply (http.h). */
#ifndef ODSCAN_API_H
#define ODSCAN_API_H

#include "dispatch.h"
#include "http.h"

/* api_ods.c: POST /qps/rest/1.0/ods/ca/agentasset/<id> - launch a scan on one asset. */
enum handler_result api_ods_launch(struct request *r);
enum handler_result api_ods_launch_done(struct request *r);
/* api_ods.c: POST /qps/rest/1.0/ods/ca/agentasset - launch on every asset a filter
 * matches (at most ODS_BULK_MAX), in one transaction. */
#define ODS_BULK_MAX 10000
enum handler_result api_ods_launch_bulk(struct request *r);
enum handler_result api_ods_launch_bulk_done(struct request *r);

/* api_asset.c: HostAsset search, get and count (QPS 2.0 am/hostasset). */
enum handler_result api_asset_search(struct request *r);
enum handler_result api_asset_get(struct request *r);
enum handler_result api_asset_count(struct request *r);

/* api_module.c: module activation and deactivation, on one asset or by filter. */
enum handler_result api_module_activate(struct request *r);
enum handler_result api_module_deactivate(struct request *r);

/* api_meta.c: GET /qps/xsd/1.0/ca/agentasset.xsd and GET /healthz. */
enum handler_result api_meta_xsd(struct request *r);
enum handler_result api_meta_health(struct request *r);

/* api_agent.c: the agent protocol (docs/agent.md). */
enum handler_result api_agent_enroll(struct request *r);
enum handler_result api_agent_checkin(struct request *r);
enum handler_result api_agent_checkin_done(struct request *r);
enum handler_result api_agent_job_start(struct request *r);
enum handler_result api_agent_job_heartbeat(struct request *r);
enum handler_result api_agent_job_result(struct request *r);
enum handler_result api_agent_job_done(struct request *r);
/* api_agent_checkin_take takes the check-in waiting for asset_id out of the hub and
 * readies its claim for the committer to run in the batch being written (the one
 * launching on that asset). NULL when no live check-in waits. Committer thread. */
struct commit_item *api_agent_checkin_take(dispatch_t *hub, int64_t asset_id);
/* api_agent_checkin_wake is the dispatch hub's wake-up of a waiting check-in. */
void api_agent_checkin_wake(void *waiter, enum wake_reason why);

/* api_jobs.c: the JSON API on jobs and assets, for users. */
enum handler_result api_jobs_get(struct request *r);
enum handler_result api_jobs_result(struct request *r);
enum handler_result api_assets_jobs(struct request *r);
enum handler_result api_assets_inventory(struct request *r);

/* api_tags.c: tags (/qps/rest/2.0/{create,update,delete,search,get}/am/tag) and the
 * tags of an asset (POST /qps/rest/2.0/update/am/asset/<id>). */
enum handler_result api_tag_create(struct request *r);
enum handler_result api_tag_update(struct request *r);
enum handler_result api_tag_delete(struct request *r);
enum handler_result api_tag_search(struct request *r);
enum handler_result api_tag_get(struct request *r);
enum handler_result api_asset_update_tags(struct request *r);

/* api_keys.c: activation keys (/qps/rest/1.0/{create,search,get,update,delete}/ca/agentactkey). */
enum handler_result api_key_create(struct request *r);
enum handler_result api_key_search(struct request *r);
enum handler_result api_key_get(struct request *r);
enum handler_result api_key_update(struct request *r);
enum handler_result api_key_delete(struct request *r);

/* api_vuln.c: vulnerability findings and the knowledge base (docs/api.md). */
enum handler_result api_vuln_asset(struct request *r);
enum handler_result api_vuln_who(struct request *r);
enum handler_result api_vuln_summary(struct request *r);
enum handler_result api_kb_import(struct request *r);
enum handler_result api_kb_import_done(struct request *r);

#endif
