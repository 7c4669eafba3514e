/* router.h - the route table: which handler serves which method and path, and who
 * may call it. Adding an endpoint is adding a row (router.c) and a handler. */
#ifndef ODSCAN_ROUTER_H
#define ODSCAN_ROUTER_H

#include "http.h"

#include <stddef.h>

#define ROLE_BIT(r)  (1u << (r))
#define ROLES_ANY_USER (ROLE_BIT(ROLE_MANAGER) | ROLE_BIT(ROLE_SCANNER) | ROLE_BIT(ROLE_READER))
#define ROLES_LAUNCH   (ROLE_BIT(ROLE_MANAGER) | ROLE_BIT(ROLE_SCANNER))

struct route {
    const char *method;
    const char *path;       /* exact path; with `param`, the prefix before the last segment */
    bool        param;      /* the path ends with one variable segment */
    unsigned    roles;      /* ROLE_BIT set allowed to call; 0 = no authentication */
    enum handler_result (*handle)(struct request *r);
    enum handler_result (*resume)(struct request *r);  /* after http_resume, or NULL */
};

/* router_match finds the route for method and path. On a match returns it and sets
 * *param to the variable segment (or NULL). When the path exists with other methods
 * returns NULL and writes them ("GET, POST") into allow (size n); when the path is
 * unknown returns NULL with allow empty. */
const struct route *router_match(const char *method, const char *path, const char **param,
    char *allow, size_t n);

#endif
