/* store_names.c - names of roles and job states, shared by every backend and program. */
#include "store.h"
#include "err.h"

#include <string.h>

static const char *const role_names[ROLE_COUNT] = { "manager", "scanner", "reader" };
static const char *const state_names[JOB_STATE_COUNT] = {
    "QUEUED", "DISPATCHED", "RUNNING", "COMPLETED", "FAILED", "EXPIRED",
};

const char *
role_name(int role)
{
    return (role >= 0 && role < ROLE_COUNT) ? role_names[role] : "unknown";
}

const char *
job_state_name(int state)
{
    return (state >= 0 && state < JOB_STATE_COUNT) ? state_names[state] : "UNKNOWN";
}

int
role_parse(const char *name, int *out)
{
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = i;
            return ODS_E_OK;
        }
    }
    return ODS_E_PARSE;
}
