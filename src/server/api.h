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
/* api_ods.c: POST /qps/rest/1.0/ods/ca/agentasset - launch by filter (not yet). */
enum handler_result api_ods_launch_bulk(struct request *r);

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
/* api_agent_checkin_wake is the dispatch hub's wake-up of a waiting check-in. */
void api_agent_checkin_wake(void *waiter, enum wake_reason why);

/* api_jobs.c: the JSON API on jobs and assets, for users. */
enum handler_result api_jobs_get(struct request *r);
enum handler_result api_jobs_result(struct request *r);
enum handler_result api_assets_jobs(struct request *r);
enum handler_result api_assets_inventory(struct request *r);

/* api_vuln.c: vulnerability findings and the knowledge base (docs/api.md). */
enum handler_result api_vuln_asset(struct request *r);
enum handler_result api_vuln_who(struct request *r);
enum handler_result api_vuln_summary(struct request *r);
enum handler_result api_kb_import(struct request *r);
enum handler_result api_kb_import_done(struct request *r);

#endif
