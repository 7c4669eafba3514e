/* api_meta.c - what the server says about itself: the XML schema of its responses and
 * a health check for load balancers. */
#include "api.h"
#include "err.h"
#include "server.h"
#include "store.h"

extern const unsigned char xsd_agentasset[];
extern const unsigned long xsd_agentasset_len;

enum handler_result
api_meta_xsd(struct request *r)
{
    r->content_type = "application/xml; charset=utf-8";
    if (buf_append(&r->out, xsd_agentasset, xsd_agentasset_len) != 0)
        http_reply_internal(r, "schema too large", ODS_E_TOOBIG);
    return HANDLER_REPLY;
}

enum handler_result
api_meta_health(struct request *r)
{
    int64_t epoch;

    r->content_type = "application/json";
    /* A read through the store proves the database answers, not only the socket. */
    if (store_auth_epoch(r->srv->store, &epoch) != 0) {
        r->status = 503;
        buf_puts(&r->out, "{\"status\":\"unavailable\",\"store\":\"error\"}\n");
        return HANDLER_REPLY;
    }
    buf_puts(&r->out, "{\"status\":\"ok\"}\n");
    return HANDLER_REPLY;
}
