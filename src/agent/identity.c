/* identity.c - load and save the enrolled identity in the state directory. */
#include "identity.h"
#include "err.h"
#include "statefile.h"
#include "util.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDENTITY_FILE_MAX (16u * 1024)

/* copy_field copies the string member key of obj into dst; a missing, non-string or
 * over-long member is a parse error. */
static int
copy_field(json_t *obj, const char *key, char *dst, size_t n)
{
    const char *s = json_string_value(json_object_get(obj, key));

    if (s == NULL || *s == '\0' || str_copy(dst, n, s) != ODS_E_OK)
        return ODS_E_PARSE;
    return ODS_E_OK;
}

int
identity_load(const char *dir, struct identity *id)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    int rc;
    int n = snprintf(path, sizeof(path), "%s/%s", dir, IDENTITY_FILE);

    if (n < 0 || (size_t)n >= sizeof(path))
        return ODS_E_TOOBIG;
    rc = statefile_read(path, IDENTITY_FILE_MAX, &text, &len);
    if (rc == ODS_E_TOOBIG)
        rc = ODS_E_PARSE;
    if (rc != ODS_E_OK)
        goto out;
    rc = ODS_E_PARSE;
    root = json_loadb(text, len, 0, NULL);
    if (!json_is_object(root))
        goto out;
    json_t *asset = json_object_get(root, "asset_id");
    if (!json_is_integer(asset) || json_integer_value(asset) <= 0)
        goto out;
    memset(id, 0, sizeof(*id));
    id->asset_id = (uint64_t)json_integer_value(asset);
    if (copy_field(root, "server", id->server, sizeof(id->server)) != ODS_E_OK
        || copy_field(root, "agent_uuid", id->agent_uuid, sizeof(id->agent_uuid)) != ODS_E_OK
        || copy_field(root, "agent_secret", id->agent_secret, sizeof(id->agent_secret)) != ODS_E_OK)
        goto out;
    rc = ODS_E_OK;
out:
    json_decref(root);
    free(text);
    return rc;
}

int
identity_save(const char *dir, const struct identity *id)
{
    json_t *root = NULL;
    char *text = NULL;
    int rc = ODS_E_NOMEM;

    root = json_pack("{s:s, s:I, s:s, s:s}", "server", id->server,
        "asset_id", (json_int_t)id->asset_id, "agent_uuid", id->agent_uuid,
        "agent_secret", id->agent_secret);
    if (root == NULL)
        goto out;
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL)
        goto out;
    rc = statefile_write(dir, IDENTITY_FILE, text, strlen(text), 0600);
out:
    free(text);
    json_decref(root);
    return rc;
}
