/* matcher.c - an immutable index of advisories by (family, release, package) and the
 * OSV "is this version affected" decision.
 *
 * Speed comes from doing the version comparisons once at build time: every version an
 * advisory group mentions is sorted (with the family's comparator) into a list of
 * distinct versions, and each event gets its position as an integer key. Assessing a
 * package is then one hash lookup, one binary search of its version in that list
 * (O(log n) comparisons), and integer comparisons for every advisory of the group. */
#include "matcher.h"
#include "err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MIN     (-1)            /* introduced "0": before every version */
#define KEYS_MAX    (1 << 30)

/* An event with its version replaced by its key: 2*i+1 for the i-th distinct version. */
struct mevent {
    int32_t     key;
    uint8_t     kind;               /* enum vuln_event_kind */
    const char *version;
};

struct mrange {
    uint32_t ev_off, ev_n;
    bool     has_limit;
};

struct mentry {
    const struct advisory      *adv;
    const struct vuln_affected *aff;
    uint32_t rng_off, rng_n;
    uint32_t ver_off, ver_n;        /* sorted keys of the explicit versions */
    /* Most entries are one range "introduced 0 [, fixed F]" and nothing else. Those are
     * "simple": affected exactly when the installed key is below fix_key (INT32_MAX
     * when there is no fix), so a group keeps them sorted by fix_key and finds all its
     * hits with one binary search. */
    bool        simple;
    int32_t     fix_key;
    const char *fix;
};

struct mgroup {
    enum vuln_family   family;
    enum vercmp_scheme scheme;
    const char        *release;
    const char        *name;
    uint64_t           hash;
    const char       **uniq;        /* distinct versions, ascending */
    uint32_t           n_uniq;
    uint32_t           ent_off, ent_n;
    uint32_t           n_simple;    /* the first n_simple entries, sorted by fix_key */
};

struct matcher {
    struct mgroup *groups;
    size_t         n_groups;
    struct mentry *entries;
    size_t         n_entries;
    struct mrange *ranges;
    size_t         n_ranges, cap_ranges;
    struct mevent *events;
    size_t         n_events, cap_events;
    int32_t       *vkeys;
    size_t         n_vkeys, cap_vkeys;
    const char   **uniq;            /* all groups' distinct versions, back to back */
    size_t         n_uniq;
    uint32_t      *table;           /* open addressing: group index + 1, 0 = empty */
    size_t         table_mask;
};

static uint64_t
hash_key(enum vuln_family family, const char *release, const char *name)
{
    uint64_t h = 1469598103934665603ULL;

    h = (h ^ (uint64_t)family) * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)release; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* ---- building ------------------------------------------------------------------ */

struct item {
    const struct advisory      *adv;
    const struct vuln_affected *aff;
};

static int
item_cmp(const void *pa, const void *pb)
{
    const struct item *a = pa, *b = pb;
    int rc;

    if (a->aff->ecosystem.family != b->aff->ecosystem.family)
        return a->aff->ecosystem.family < b->aff->ecosystem.family ? -1 : 1;
    rc = strcmp(a->aff->ecosystem.release, b->aff->ecosystem.release);
    if (rc == 0)
        rc = strcmp(a->aff->package, b->aff->package);
    return rc;
}

static int
ver_cmp(const void *pa, const void *pb, void *arg)
{
    return vercmp(*(const enum vercmp_scheme *)arg, *(const char *const *)pa,
        *(const char *const *)pb);
}

static int
event_cmp(const void *pa, const void *pb)
{
    const struct mevent *a = pa, *b = pb;

    return (a->key > b->key) - (a->key < b->key);
}

static int
int_cmp(const void *pa, const void *pb)
{
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;

    return (a > b) - (a < b);
}

static bool
is_from_start(const struct vuln_event *ev)
{
    return ev->kind == VULN_EVENT_INTRODUCED && strcmp(ev->version, "0") == 0;
}

/* Position of v among uniq[0..n): 2*i+1 when equal to uniq[i], else 2*(count below). */
static int32_t
key_of(enum vercmp_scheme scheme, const char *const *uniq, uint32_t n, const char *v)
{
    uint32_t lo = 0, hi = n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = vercmp(scheme, uniq[mid], v);

        if (c == 0)
            return (int32_t)(2 * mid + 1);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int32_t)(2 * lo);
}

static int
reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return ODS_E_OK;
    ncap = *cap == 0 ? 1024 : *cap;
    while (ncap < need)
        ncap *= 2;
    p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return ODS_E_NOMEM;
    *arr = p;
    *cap = ncap;
    return ODS_E_OK;
}

static bool
usable_range(const struct vuln_range *r)
{
    /* XXX SEMVER ranges (language ecosystems) are not compared yet; GIT ranges name
     * commits, which installed OS packages do not have. */
    return r->type == VULN_RANGE_ECOSYSTEM;
}

static void
classify(const struct matcher *m, struct mentry *ent)
{
    const struct mrange *r = &m->ranges[ent->rng_off];
    const struct mevent *ev = m->events + r->ev_off;

    ent->simple = false;
    if (ent->rng_n != 1 || ent->ver_n != 0 || r->ev_n == 0 || r->ev_n > 2 ||
        ev[0].kind != VULN_EVENT_INTRODUCED || ev[0].key != KEY_MIN)
        return;
    if (r->ev_n == 1) {
        ent->simple = true;
        ent->fix_key = INT32_MAX;
        ent->fix = NULL;
    } else if (ev[1].kind == VULN_EVENT_FIXED) {
        ent->simple = true;
        ent->fix_key = ev[1].key;
        ent->fix = ev[1].version;
    }
}

/* Simple entries first, by fix_key; the others after, in any order. */
static int
entry_cmp(const void *pa, const void *pb)
{
    const struct mentry *a = pa, *b = pb;

    if (a->simple != b->simple)
        return a->simple ? -1 : 1;
    if (!a->simple)
        return 0;
    return (a->fix_key > b->fix_key) - (a->fix_key < b->fix_key);
}

/* Build one group from items[0..n) (same family, release, package). */
static int
build_group(struct matcher *m, struct mgroup *g, const struct item *items, size_t n)
{
    size_t nv = 0, start = m->n_uniq;
    int rc;

    /* Every version the group mentions, sorted and made distinct. */
    for (size_t i = 0; i < n; i++) {
        const struct vuln_affected *aff = items[i].aff;

        nv += aff->n_versions;
        for (size_t r = 0; r < aff->n_ranges; r++)
            nv += aff->ranges[r].n_events;
    }
    if (m->n_uniq + nv > KEYS_MAX)
        return ODS_E_TOOBIG;
    for (size_t i = 0; i < n; i++) {
        const struct vuln_affected *aff = items[i].aff;

        for (size_t v = 0; v < aff->n_versions; v++)
            m->uniq[m->n_uniq++] = aff->versions[v];
        for (size_t r = 0; r < aff->n_ranges; r++) {
            if (!usable_range(&aff->ranges[r]))
                continue;
            for (size_t e = 0; e < aff->ranges[r].n_events; e++)
                if (!is_from_start(&aff->ranges[r].events[e]))
                    m->uniq[m->n_uniq++] = aff->ranges[r].events[e].version;
        }
    }
    qsort_r(m->uniq + start, m->n_uniq - start, sizeof(char *), ver_cmp, &g->scheme);
    {
        size_t w = start;

        for (size_t r = start; r < m->n_uniq; r++)
            if (w == start || vercmp(g->scheme, m->uniq[w - 1], m->uniq[r]) != 0)
                m->uniq[w++] = m->uniq[r];
        m->n_uniq = w;
    }
    g->uniq = NULL;     /* set after all groups are built: m->uniq is final by then */
    g->n_uniq = (uint32_t)(m->n_uniq - start);

    g->ent_off = (uint32_t)m->n_entries;
    g->ent_n = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        const struct vuln_affected *aff = items[i].aff;
        const char *const *uniq = m->uniq + start;
        struct mentry *ent = &m->entries[m->n_entries++];

        ent->adv = items[i].adv;
        ent->aff = aff;
        ent->rng_off = (uint32_t)m->n_ranges;
        ent->rng_n = 0;
        for (size_t r = 0; r < aff->n_ranges; r++) {
            const struct vuln_range *src = &aff->ranges[r];
            struct mrange *mr;

            if (!usable_range(src))
                continue;
            rc = reserve((void **)&m->ranges, &m->cap_ranges, m->n_ranges + 1, sizeof(*mr));
            if (rc == 0)
                rc = reserve((void **)&m->events, &m->cap_events, m->n_events + src->n_events,
                    sizeof(struct mevent));
            if (rc != 0)
                return rc;
            mr = &m->ranges[m->n_ranges++];
            mr->ev_off = (uint32_t)m->n_events;
            mr->ev_n = (uint32_t)src->n_events;
            mr->has_limit = false;
            for (size_t e = 0; e < src->n_events; e++) {
                struct mevent *me = &m->events[m->n_events++];

                me->kind = (uint8_t)src->events[e].kind;
                me->version = src->events[e].version;
                me->key = is_from_start(&src->events[e]) ? KEY_MIN
                          : key_of(g->scheme, uniq, g->n_uniq, me->version);
                mr->has_limit |= src->events[e].kind == VULN_EVENT_LIMIT;
            }
            /* Insertion sort: stable, and ranges hold a handful of events. */
            for (uint32_t a = mr->ev_off + 1; a < mr->ev_off + mr->ev_n; a++)
                for (uint32_t b = a; b > mr->ev_off && event_cmp(&m->events[b - 1], &m->events[b]) > 0; b--) {
                    struct mevent t = m->events[b];

                    m->events[b] = m->events[b - 1];
                    m->events[b - 1] = t;
                }
            ent->rng_n++;
        }
        ent->ver_off = (uint32_t)m->n_vkeys;
        ent->ver_n = (uint32_t)aff->n_versions;
        rc = reserve((void **)&m->vkeys, &m->cap_vkeys, m->n_vkeys + aff->n_versions,
            sizeof(int32_t));
        if (rc != 0)
            return rc;
        for (size_t v = 0; v < aff->n_versions; v++)
            m->vkeys[m->n_vkeys++] = key_of(g->scheme, uniq, g->n_uniq, aff->versions[v]);
        if (ent->ver_n > 1)
            qsort(m->vkeys + ent->ver_off, ent->ver_n, sizeof(int32_t), int_cmp);
        classify(m, ent);
        g->n_simple += ent->simple;
    }
    if (g->ent_n > 1)
        qsort(m->entries + g->ent_off, g->ent_n, sizeof(struct mentry), entry_cmp);
    return ODS_E_OK;
}

int
matcher_build(const struct advisory_set *set, struct matcher **out)
{
    struct matcher *m = NULL;
    struct item *items = NULL;
    size_t n_items = 0, total_versions = 0, cap;
    int rc = ODS_E_NOMEM;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto out;
    for (size_t i = 0; i < set->n; i++)
        if (!set->items[i]->withdrawn)
            n_items += set->items[i]->n_affected;
    items = calloc(n_items + 1, sizeof(*items));
    m->entries = calloc(n_items + 1, sizeof(*m->entries));
    m->groups = calloc(n_items + 1, sizeof(*m->groups));
    if (items == NULL || m->entries == NULL || m->groups == NULL)
        goto out;
    n_items = 0;
    for (size_t i = 0; i < set->n; i++) {
        const struct advisory *adv = set->items[i];
        enum vercmp_scheme scheme;

        if (adv->withdrawn)
            continue;
        for (size_t a = 0; a < adv->n_affected; a++) {
            const struct vuln_affected *aff = &adv->affected[a];

            if (!advisory_family_scheme(aff->ecosystem.family, &scheme))
                continue;
            items[n_items].adv = adv;
            items[n_items].aff = aff;
            n_items++;
            total_versions += aff->n_versions;
            for (size_t r = 0; r < aff->n_ranges; r++)
                total_versions += aff->ranges[r].n_events;
        }
    }
    if (total_versions > KEYS_MAX) {
        rc = ODS_E_TOOBIG;
        goto out;
    }
    m->uniq = calloc(total_versions + 1, sizeof(char *));
    if (m->uniq == NULL)
        goto out;
    qsort(items, n_items, sizeof(*items), item_cmp);

    for (size_t i = 0; i < n_items;) {
        size_t j = i + 1;
        struct mgroup *g = &m->groups[m->n_groups++];

        while (j < n_items && item_cmp(&items[i], &items[j]) == 0)
            j++;
        g->family = items[i].aff->ecosystem.family;
        advisory_family_scheme(g->family, &g->scheme);
        g->release = items[i].aff->ecosystem.release;
        g->name = items[i].aff->package;
        g->hash = hash_key(g->family, g->release, g->name);
        rc = build_group(m, g, items + i, j - i);
        if (rc != 0)
            goto out;
        i = j;
    }
    /* Distinct-version lists are final: point each group at its own. */
    for (size_t i = 0, off = 0; i < m->n_groups; i++) {
        m->groups[i].uniq = m->uniq + off;
        off += m->groups[i].n_uniq;
    }

    for (cap = 16; cap < m->n_groups * 2; cap *= 2)
        ;
    m->table = calloc(cap, sizeof(*m->table));
    if (m->table == NULL) {
        rc = ODS_E_NOMEM;
        goto out;
    }
    m->table_mask = cap - 1;
    for (size_t i = 0; i < m->n_groups; i++) {
        size_t slot = m->groups[i].hash & m->table_mask;

        while (m->table[slot] != 0)
            slot = (slot + 1) & m->table_mask;
        m->table[slot] = (uint32_t)(i + 1);
    }
    *out = m;
    m = NULL;
    rc = ODS_E_OK;
out:
    free(items);
    matcher_free(m);
    return rc;
}

void
matcher_free(struct matcher *m)
{
    if (m == NULL)
        return;
    free(m->table);
    free(m->uniq);
    free(m->vkeys);
    free(m->events);
    free(m->ranges);
    free(m->entries);
    free(m->groups);
    free(m);
}

void
matcher_count(const struct matcher *m, size_t *entries, size_t *groups)
{
    *entries = m->n_entries;
    *groups = m->n_groups;
}

/* ---- assessing ----------------------------------------------------------------- */

static const struct mgroup *
lookup(const struct matcher *m, enum vuln_family family, const char *release, const char *name)
{
    uint64_t h = hash_key(family, release, name);
    size_t slot = h & m->table_mask;

    for (; m->table[slot] != 0; slot = (slot + 1) & m->table_mask) {
        const struct mgroup *g = &m->groups[m->table[slot] - 1];

        if (g->hash == h && g->family == family && strcmp(g->name, name) == 0 &&
            strcmp(g->release, release) == 0)
            return g;
    }
    return NULL;
}

/* Walk one range's sorted events for installed key v. Returns whether v is affected;
 * *fixed gets the first fixed event above v (NULL when none). */
static bool
range_affects(const struct matcher *m, const struct mrange *r, int32_t v, const char **fixed)
{
    const struct mevent *ev = m->events + r->ev_off;
    bool vuln = false, below_limit = !r->has_limit;
    uint32_t i;

    *fixed = NULL;
    for (i = 0; i < r->ev_n && ev[i].key <= v; i++) {
        switch (ev[i].kind) {
        case VULN_EVENT_INTRODUCED:
            vuln = true;
            break;
        case VULN_EVENT_FIXED:
            vuln = false;
            break;
        case VULN_EVENT_LAST_AFFECTED:
            if (v > ev[i].key)
                vuln = false;
            break;
        default:
            break;
        }
    }
    for (; i < r->ev_n; i++) {
        if (ev[i].kind == VULN_EVENT_FIXED && *fixed == NULL)
            *fixed = ev[i].version;
        if (ev[i].kind == VULN_EVENT_LIMIT)
            below_limit = true;
    }
    return vuln && below_limit;
}

static bool
in_versions(const int32_t *keys, uint32_t n, int32_t v)
{
    uint32_t lo = 0, hi = n;

    if ((v & 1) == 0)
        return false;       /* not equal to any version the group mentions */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (keys[mid] == v)
            return true;
        if (keys[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int
emit(const struct mentry *ent, size_t index, const char *name, const char *version,
    const char *fixed, matcher_finding_fn fn, void *arg, size_t *count)
{
    struct matcher_finding f = {
        .advisory = ent->adv,
        .affected = ent->aff,
        .package_index = index,
        .package = name,
        .installed_version = version,
        .fixed_version = fixed,
        .severity = ent->aff->severity.cvss_vector != NULL || ent->aff->severity.urgency != NULL
                        ? &ent->aff->severity : &ent->adv->severity,
        .undetermined = ent->aff->undetermined,
    };

    (*count)++;
    return fn(&f, arg);
}

/* Assess one package against one group; calls fn per finding. */
static int
assess_group(const struct matcher *m, const struct mgroup *g, size_t index, const char *name,
    const char *version, matcher_finding_fn fn, void *arg, size_t *count)
{
    int32_t v = key_of(g->scheme, g->uniq, g->n_uniq, version);
    const struct mentry *ents = &m->entries[g->ent_off];
    uint32_t lo = 0, hi = g->n_simple;

    /* Simple entries: affected from the first whose fix is above v. */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (ents[mid].fix_key > v)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (uint32_t e = lo; e < g->n_simple; e++) {
        const struct mentry *ent = &ents[e];
        int rc = emit(ent, index, name, version, ent->fix, fn, arg, count);

        if (rc != 0)
            return rc;
    }

    for (uint32_t e = g->n_simple; e < g->ent_n; e++) {
        const struct mentry *ent = &m->entries[g->ent_off + e];
        const char *fixed = NULL, *any_fixed = NULL;
        bool hit = false;

        for (uint32_t r = 0; r < ent->rng_n; r++) {
            const char *f;
            bool a = range_affects(m, &m->ranges[ent->rng_off + r], v, &f);

            /* The smallest fix above v: among matching ranges, else among all. */
            if (f != NULL && a && (fixed == NULL || vercmp(g->scheme, f, fixed) < 0))
                fixed = f;
            if (f != NULL && (any_fixed == NULL || vercmp(g->scheme, f, any_fixed) < 0))
                any_fixed = f;
            hit |= a;
        }
        if (!hit) {
            if (!in_versions(m->vkeys + ent->ver_off, ent->ver_n, v))
                continue;
            fixed = any_fixed;
        }
        int rc = emit(ent, index, name, version, fixed, fn, arg, count);

        if (rc != 0)
            return rc;
    }
    return ODS_E_OK;
}

int
matcher_assess(const struct matcher *m, const char *ecosystem,
    const struct matcher_package *packages, size_t n, matcher_finding_fn fn, void *arg,
    size_t *nfindings)
{
    struct vuln_ecosystem eco;
    enum vercmp_scheme scheme;
    size_t count = 0;
    bool by_source;
    int rc = ODS_E_OK;

    if (nfindings != NULL)
        *nfindings = 0;
    if (advisory_ecosystem_parse(ecosystem, &eco) != 0 ||
        !advisory_family_scheme(eco.family, &scheme))
        return ODS_E_INVAL;
    by_source = advisory_family_by_source(eco.family);

    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct matcher_package *p = &packages[i];
        const char *name = p->name, *version = p->version;
        const struct mgroup *g;

        if (by_source && p->source != NULL && p->source[0] != '\0') {
            name = p->source;
            if (p->source_version != NULL && p->source_version[0] != '\0')
                version = p->source_version;
        }
        if (name == NULL || version == NULL)
            continue;
        g = lookup(m, eco.family, eco.release, name);
        if (g != NULL)
            rc = assess_group(m, g, i, name, version, fn, arg, &count);
        if (rc == 0 && eco.release[0] != '\0' && (g = lookup(m, eco.family, "", name)) != NULL)
            rc = assess_group(m, g, i, name, version, fn, arg, &count);
    }
    if (nfindings != NULL)
        *nfindings = count;
    return rc;
}
