/* enroll.h - first contact: trade the activation key for an identity. */
#ifndef ODSCAN_AGENT_ENROLL_H
#define ODSCAN_AGENT_ENROLL_H

#include "agent_client.h"
#include "identity.h"
#include "profile.h"

/* enroll_body builds the enrollment request for this host: activation_key, hostname,
 * fqdn, os_family "linux", os_name, os_version, arch, machine_id, agent_version.
 * Caller decrefs *body. Returns 0 or ODS_E_NOMEM. */
int enroll_body(const char *activation_key, json_t **body);
/* enroll_once POSTs /agent/v1/enroll and, on 200, fills *id (server = server_url) and
 * *profile. Returns 0; ODS_E_AUTH (403: key unknown, revoked, expired or used up);
 * ODS_E_PARSE (a 200 without the identity); ODS_E_BUSY (another HTTP status, try
 * again later, *status says which); or a client error (network: try again later). */
int enroll_once(agent_client_t *client, const char *server_url, const char *activation_key,
    struct identity *id, struct profile *profile, long *status);

#endif
