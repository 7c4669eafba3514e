/* identity.h - the agent's enrolled identity, DIR/identity.json (mode 0600):
 * {"server","asset_id","agent_uuid","agent_secret"}. */
#ifndef ODSCAN_AGENT_IDENTITY_H
#define ODSCAN_AGENT_IDENTITY_H

#include <stdint.h>

#define IDENTITY_FILE "identity.json"
#define IDENTITY_FIELD_MAX 512   /* longest server URL, uuid or secret accepted */

struct identity {
    char     server[IDENTITY_FIELD_MAX];
    uint64_t asset_id;
    char     agent_uuid[IDENTITY_FIELD_MAX];
    char     agent_secret[IDENTITY_FIELD_MAX];
};

/* identity_load reads DIR/identity.json into *id. Returns 0, ODS_E_NOTFOUND (never
 * enrolled), ODS_E_PARSE (not the expected JSON object, or a field too long),
 * ODS_E_NOMEM or ODS_E_IO. */
int identity_load(const char *dir, struct identity *id);
/* identity_save writes *id to DIR/identity.json with mode 0600, durably (see
 * statefile_write). DIR must exist. Returns 0, ODS_E_NOMEM, ODS_E_TOOBIG or ODS_E_IO. */
int identity_save(const char *dir, const struct identity *id);

#endif
