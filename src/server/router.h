/* router.h - the route table: which handler serves which method and path, and who
 * may call it. Adding an endpoint is adding a row (router.c) and a handler. */
#ifndef ODSCAN_ROUTER_H
#define ODSCAN_ROUTER_H

#include "http.h"
#include "ratelimit.h"

#include <stddef.h>

#define ROLE_BIT(r)  (1u << (r))
#define ROLES_ANY_USER (ROLE_BIT(ROLE_MANAGER) | ROLE_BIT(ROLE_SCANNER) | ROLE_BIT(ROLE_READER))
#define ROLES_LAUNCH   (ROLE_BIT(ROLE_MANAGER) | ROLE_BIT(ROLE_SCANNER))
#define ROLES_MANAGE   ROLE_BIT(ROLE_MANAGER)

/* Who may call a route. */
enum route_auth {
    AUTH_NONE = 0,      /* anyone */
    AUTH_USER,          /* HTTP Basic user with a role in `roles` */
    AUTH_AGENT,         /* an enrolled agent (Bearer uuid:secret) */
};

/* How errors are written. */
enum route_style {
    STYLE_QPS = 0,      /* ServiceResponse, XML or JSON by Accept */
    STYLE_JSON,         /* {"error": "..."} */
};

#define ROUTE_PARAMS_MAX 2

struct route {
    const char      *method;
    const char      *path;       /* "{}" stands for one path segment */
    enum route_auth  auth;
    unsigned         roles;      /* AUTH_USER: ROLE_BIT set allowed */
    enum route_style style;
    size_t           body_max;   /* 0: QPS_BODY_MAX */
    enum handler_result (*handle)(struct request *r);
    enum handler_result (*resume)(struct request *r);  /* after http_resume, or NULL */
    enum rate_family family;     /* AUTH_USER: whose limits it counts against */
};

/* router_match finds the route for method and path. On a match returns it and copies
 * the "{}" segments into params[] (pointers into path are not kept: each segment is
 * copied into the caller's storage seg, ROUTE_PARAMS_MAX × seg_size bytes) with their
 * count in *nparams. When the path exists with other methods returns NULL and writes
 * them ("GET, POST") into allow (size n); when the path is unknown returns NULL with
 * allow empty. */
const struct route *router_match(const char *method, const char *path,
    char seg[][HTTP_SEGMENT_MAX], size_t *nparams, char *allow, size_t n);

#endif
