/* enroll.c - the enrollment request (host facts from the inventory collectors) and
 * the identity in its answer. */
#include "enroll.h"
#include "err.h"
#include "scans/inventory.h"
#include "util.h"

#include <string.h>

#define ENROLL_TIMEOUT_S 60

/* copy_member copies the member key of from into to under the name as. */
static int
copy_member(json_t *to, const char *as, json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);

    return json_object_set(to, as, v != NULL ? v : json_null()) == 0 ? ODS_E_OK : ODS_E_NOMEM;
}

int
enroll_body(const char *activation_key, json_t **out)
{
    json_t *os = json_object(), *host = json_object();
    json_t *body = json_pack("{s:s, s:s, s:s}", "activation_key", activation_key,
        "os_family", "linux", "agent_version", ODSCAN_VERSION);
    int rc = ODS_E_NOMEM;

    if (os == NULL || host == NULL || body == NULL)
        goto out;
    /* Missing facts are null; only running out of memory fails. */
    if (inventory_os("", os) == ODS_E_NOMEM || inventory_host("", host) == ODS_E_NOMEM)
        goto out;
    if (copy_member(body, "hostname", host, "hostname") != 0
        || copy_member(body, "fqdn", host, "fqdn") != 0
        || copy_member(body, "os_name", os, "name") != 0
        || copy_member(body, "os_version", os, "version") != 0
        || copy_member(body, "arch", os, "arch") != 0
        || copy_member(body, "machine_id", host, "machine_id") != 0)
        goto out;
    *out = body;
    body = NULL;
    rc = ODS_E_OK;
out:
    json_decref(os);
    json_decref(host);
    json_decref(body);
    return rc;
}

/* take_identity reads the 200 answer. */
static int
take_identity(json_t *reply, const char *server_url, struct identity *id, struct profile *profile)
{
    json_t *asset = json_object_get(reply, "asset_id");
    const char *uuid = json_string_value(json_object_get(reply, "agent_uuid"));
    const char *secret = json_string_value(json_object_get(reply, "agent_secret"));

    if (!json_is_integer(asset) || json_integer_value(asset) <= 0 || uuid == NULL || secret == NULL
        || *uuid == '\0' || *secret == '\0')
        return ODS_E_PARSE;
    memset(id, 0, sizeof(*id));
    id->asset_id = (uint64_t)json_integer_value(asset);
    if (str_copy(id->server, sizeof(id->server), server_url) != ODS_E_OK
        || str_copy(id->agent_uuid, sizeof(id->agent_uuid), uuid) != ODS_E_OK
        || str_copy(id->agent_secret, sizeof(id->agent_secret), secret) != ODS_E_OK)
        return ODS_E_PARSE;
    profile_update(profile, json_object_get(reply, "profile"));
    return ODS_E_OK;
}

int
enroll_once(agent_client_t *client, const char *server_url, const char *activation_key,
    struct identity *id, struct profile *profile, long *status)
{
    json_t *body = NULL, *reply = NULL;
    int rc;

    *status = 0;
    if ((rc = enroll_body(activation_key, &body)) != ODS_E_OK)
        return rc;
    rc = agent_client_post_json(client, "/agent/v1/enroll", body, ENROLL_TIMEOUT_S, status, &reply);
    if (rc != ODS_E_OK)
        goto out;
    if (*status == 403)
        rc = ODS_E_AUTH;
    else if (*status != 200)
        rc = ODS_E_BUSY;
    else
        rc = take_identity(reply, server_url, id, profile);
out:
    json_decref(reply);
    json_decref(body);
    return rc;
}
