/* profile.c - defaults and range-checked updates of the configuration profile. */
#include "profile.h"
#include "cpu.h"

#include <stddef.h>

static const struct {
    const char *key;
    size_t      offset;
    unsigned    min, max;
} fields[] = {
    { "cpu_limit",      offsetof(struct profile, cpu_limit),      CPU_LIMIT_MIN, CPU_LIMIT_MAX },
    { "cpu_throttle",   offsetof(struct profile, cpu_throttle),   0, CPU_THROTTLE_MAX },
    { "checkin_hold_s", offsetof(struct profile, checkin_hold_s), 0, 3600 },
    { "lease_s",        offsetof(struct profile, lease_s),        3, 86400 },
    { "max_concurrent", offsetof(struct profile, max_concurrent), 1, 64 },
};

void
profile_defaults(struct profile *p)
{
    p->cpu_limit = CPU_LIMIT_MAX;
    p->cpu_throttle = 0;
    p->checkin_hold_s = 60;
    p->lease_s = 300;
    p->max_concurrent = 1;
}

void
profile_update(struct profile *p, const json_t *obj)
{
    if (!json_is_object(obj))
        return;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(obj, fields[i].key);
        if (!json_is_integer(v))
            continue;
        json_int_t x = json_integer_value(v);
        if (x < (json_int_t)fields[i].min || x > (json_int_t)fields[i].max)
            continue;
        *(unsigned *)((char *)p + fields[i].offset) = (unsigned)x;
    }
}
