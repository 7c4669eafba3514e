/* profile.h - the configuration profile the server hands the agent (on enrollment
 * and with every check-in answer): CPU budget, long-poll hold, lease, concurrency. */
#ifndef ODSCAN_AGENT_PROFILE_H
#define ODSCAN_AGENT_PROFILE_H

#include <jansson.h>

struct profile {
    unsigned cpu_limit;       /* 2..100, percent of one core */
    unsigned cpu_throttle;    /* 0..1000 */
    unsigned checkin_hold_s;  /* how long the server may hold a check-in */
    unsigned lease_s;         /* default lease of a handed-out job */
    unsigned max_concurrent;
};

/* profile_defaults fills the values used until the server sent a profile. */
void profile_defaults(struct profile *p);
/* profile_update takes the members of obj (a "profile" object) that are integers in
 * range; others keep their value. NULL or non-object obj changes nothing. */
void profile_update(struct profile *p, const json_t *obj);

#endif
