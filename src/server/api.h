/* api.h - the API handlers, one api_<resource>.c file per resource. Each takes a
 * request whose body is complete and whose caller is authenticated as its route
 * requires, and fills the reply (http.h). */
#ifndef ODSCAN_API_H
#define ODSCAN_API_H

#include "http.h"

/* api_ods.c: POST /qps/rest/1.0/ods/ca/agentasset/<id> - launch a scan on one asset. */
enum handler_result api_ods_launch(struct request *r);
enum handler_result api_ods_launch_done(struct request *r);
/* api_ods.c: POST /qps/rest/1.0/ods/ca/agentasset - launch by filter (not yet). */
enum handler_result api_ods_launch_bulk(struct request *r);

/* api_meta.c: GET /qps/xsd/1.0/ca/agentasset.xsd and GET /healthz. */
enum handler_result api_meta_xsd(struct request *r);
enum handler_result api_meta_health(struct request *r);

#endif
