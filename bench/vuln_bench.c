/* vuln_bench.c - how fast the matcher assesses one host. Loads advisories (OSV
 * directories or zips, Debian tracker JSON, aquasecurity vuln-list-debian DSA files,
 * and/or a synthetic set), a dpkg-query package list, and times repeated assessments.
 *
 *   vuln_bench --packages FILE [--ecosystem Debian:12] [--rounds N]
 *              [--osv DIR|ZIP]... [--tracker FILE]... [--vuln-list DIR]... [--synthetic N]
 *              [--affected-pct P] [--list]
 *   vuln_bench --packages FILE --synthetic N --reassess HOSTS --db URL --manifest FILE
 *
 * --reassess times what odscand does after an incremental knowledge-base import: HOSTS
 * assets with the manifest FILE (odscan-agent scan Vulnerability_Scan) are stored in the
 * database URL through the same store calls as agent uploads, the advisories imported
 * and every host assessed once (the initial scan, timed on its own line); then an update
 * is imported (1 % of the advisories modified, 0.2 % new) and timed: the knowledge base
 * loaded back, the matcher built and every asset re-assessed from its stored manifest
 * with its findings written (assess.c, as the server's thread does).
 *
 * The package list is dpkg-query -W -f='${Package}\t${source:Package}\t${source:Version}\t${Version}\n'. */
#include "assess.h"
#include "debtracker.h"
#include "kbsource.h"
#include "scan.h"
#include "store.h"
#include "err.h"
#include "matcher.h"
#include "osv.h"
#include "vuln.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#define PKGS_MAX   20000
#define LINE_MAX_  1024

struct host {
    struct matcher_package pkgs[PKGS_MAX];
    char                  *lines[PKGS_MAX];
    size_t                 n;
};

static int
load_packages(const char *path, struct host *h)
{
    char line[LINE_MAX_];
    FILE *fp = fopen(path, "r");

    if (fp == NULL)
        return ODS_E_IO;
    while (h->n < PKGS_MAX && fgets(line, sizeof(line), fp) != NULL) {
        char *f[4], *save = NULL, *copy;
        int nf = 0;

        line[strcspn(line, "\r\n")] = '\0';
        copy = strdup(line);
        if (copy == NULL)
            break;
        for (char *p = strtok_r(copy, "\t", &save); p != NULL && nf < 4; p = strtok_r(NULL, "\t", &save))
            f[nf++] = p;
        if (nf != 4) {
            free(copy);
            continue;
        }
        h->lines[h->n] = copy;
        h->pkgs[h->n] = (struct matcher_package){ f[0], f[3], f[1], f[2] };
        h->n++;
    }
    fclose(fp);
    return ODS_E_OK;
}

/* vuln-list-debian DSA files: Header.ID, xref annotations (CVE ids) and package
 * annotations "[release] - pkg version" with Kind fixed / unfixed / not-affected. */
static const struct { const char *codename, *release; } codenames[] = {
    { "buster", "10" }, { "bullseye", "11" }, { "bookworm", "12" }, { "trixie", "13" },
};

static int
load_vuln_list_file(const char *path, struct advisory_set *set)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr), *ann, *a;
    struct advisory *adv = NULL;
    const char *id;
    size_t i;
    int rc = ODS_E_PARSE;

    if (doc == NULL)
        return ODS_E_PARSE;
    id = json_string_value(json_object_get(json_object_get(doc, "Header"), "ID"));
    ann = json_object_get(doc, "Annotations");
    if (id == NULL || !json_is_array(ann) || (adv = advisory_new()) == NULL ||
        advisory_set_id(adv, id) != 0)
        goto out;
    json_array_foreach(ann, i, a) {
        const char *type = json_string_value(json_object_get(a, "Type"));
        const char *rel = json_string_value(json_object_get(a, "Release"));
        const char *pkg = json_string_value(json_object_get(a, "Package"));
        const char *kind = json_string_value(json_object_get(a, "Kind"));
        const char *ver = json_string_value(json_object_get(a, "Version"));
        struct vuln_ecosystem eco = { .family = VULN_FAMILY_DEBIAN };
        struct vuln_affected *aff;
        struct vuln_range *range;
        json_t *bug;
        size_t k;

        if (type != NULL && strcmp(type, "xref") == 0) {
            json_array_foreach(json_object_get(a, "Bugs"), k, bug)
                if (json_is_string(bug))
                    advisory_add_alias(adv, json_string_value(bug));
            continue;
        }
        if (type == NULL || strcmp(type, "package") != 0 || rel == NULL || pkg == NULL || kind == NULL)
            continue;
        for (k = 0; k < sizeof(codenames) / sizeof(codenames[0]); k++)
            if (strcmp(codenames[k].codename, rel) == 0)
                break;
        if (k == sizeof(codenames) / sizeof(codenames[0]) || strcmp(kind, "not-affected") == 0)
            continue;
        snprintf(eco.release, sizeof(eco.release), "%s", codenames[k].release);
        if (advisory_add_affected(adv, &eco, pkg, &aff) != 0 ||
            advisory_affected_add_range(aff, VULN_RANGE_ECOSYSTEM, &range) != 0 ||
            advisory_range_add_event(range, VULN_EVENT_INTRODUCED, "0") != 0 ||
            (strcmp(kind, "fixed") == 0 && ver != NULL &&
             advisory_range_add_event(range, VULN_EVENT_FIXED, ver) != 0))
            goto out;
    }
    rc = advisory_set_add(set, adv);
    adv = NULL;
out:
    advisory_free(adv);
    json_decref(doc);
    return rc;
}

static int
load_vuln_list(const char *dir, struct advisory_set *set, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return ODS_E_IO;
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        size_t len = strlen(de->d_name);

        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (load_vuln_list_file(path, set) == 0)
            (*n)++;
    }
    closedir(d);
    return ODS_E_OK;
}

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* n advisories shaped like Debian's: most name packages this host does not have, a
 * fifth name its source packages (one of them, like "linux", gets a tenth of all), and
 * --affected-pct of those are fixed above the installed version (the rest below). */
static unsigned affected_pct = 2;   /* of the advisories naming this host's packages */

static int
synthesize(struct advisory_set *set, const struct host *h, size_t n, const char *eco_s)
{
    struct vuln_ecosystem eco;

    if (advisory_ecosystem_parse(eco_s, &eco) != 0)
        return ODS_E_INVAL;
    for (size_t i = 0; i < n; i++) {
        struct advisory *adv = advisory_new();
        struct vuln_affected *aff;
        struct vuln_range *range;
        char id[64], name[64], fixed[128];
        const struct matcher_package *p = &h->pkgs[rng() % h->n];
        uint64_t r = rng() % 100;

        if (adv == NULL)
            return ODS_E_NOMEM;
        snprintf(id, sizeof(id), "SYN-%06zu", i);
        if (r < 10) {
            p = &h->pkgs[0];
            r = 10;
        }
        if (r < 30) {
            snprintf(name, sizeof(name), "%s", p->source[0] != '\0' ? p->source : p->name);
            snprintf(fixed, sizeof(fixed), "%s%s%" PRIu64, p->source_version,
                rng() % 100 < affected_pct ? "+deb12u" : "~deb12u", rng() % 20);
        } else {
            snprintf(name, sizeof(name), "synth-pkg-%05" PRIu64, rng() % 20000);
            snprintf(fixed, sizeof(fixed), "%" PRIu64 ".%" PRIu64 "-%" PRIu64, rng() % 10,
                rng() % 30, rng() % 5);
        }
        if (advisory_set_id(adv, id) != 0 || advisory_add_alias(adv, id) != 0 ||
            advisory_add_affected(adv, &eco, name, &aff) != 0 ||
            advisory_affected_add_range(aff, VULN_RANGE_ECOSYSTEM, &range) != 0 ||
            advisory_range_add_event(range, VULN_EVENT_INTRODUCED, "0") != 0 ||
            advisory_range_add_event(range, VULN_EVENT_FIXED, fixed) != 0) {
            advisory_free(adv);
            return ODS_E_NOMEM;
        }
        if (advisory_set_add(set, adv) != 0)
            return ODS_E_NOMEM;
    }
    return ODS_E_OK;
}

static int
count_finding(const struct matcher_finding *f, void *arg)
{
    (void)f;
    (*(size_t *)arg)++;
    return 0;
}

static int
print_finding(const struct matcher_finding *f, void *arg)
{
    (void)arg;
    printf("  %-16s %-24s %-28s fixed %s\n", f->advisory->id, f->package, f->installed_version,
        f->fixed_version != NULL ? f->fixed_version : "(none)");
    return 0;
}

static double
wall_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fleet_store puts hosts assets with the manifest into the store, 500 per transaction,
 * as launches and agent results. */
static int
fleet_store(store_t *st, size_t hosts, const char *manifest, size_t len, const char *hash)
{
    enum { CHUNK = 500 };
    static struct launch l[CHUNK];
    static struct store_op ops[CHUNK];

    for (size_t at = 0; at < hosts; at += CHUNK) {
        size_t k = hosts - at < CHUNK ? hosts - at : CHUNK;
        for (size_t i = 0; i < k; i++) {
            struct asset a = { .id = (int64_t)(at + i + 1), .modules = MOD_VM };
            snprintf(a.hostname, sizeof(a.hostname), "bench-%zu", at + i + 1);
            snprintf(a.os_family, sizeof(a.os_family), "linux");
            if (store_asset_add(st, &a) != 0)
                return ODS_E_STORE;
            l[i] = (struct launch){ .asset_id = a.id, .scan_type = SCAN_VULNERABILITY,
                .user = "bench", .remote = "127.0.0.1", .at_ms = 1 };
        }
        if (store_launch_batch(st, l, k) != 0)
            return ODS_E_STORE;
        for (size_t i = 0; i < k; i++) {
            memset(&ops[i], 0, sizeof(ops[i]));
            ops[i].kind = STORE_OP_JOB_FINISH;
            ops[i].u.update = (struct job_update){ .asset_id = l[i].asset_id, .job_id = l[i].job_id,
                .now_ms = 2, .final_state = JOB_COMPLETED, .result_json = manifest,
                .result_len = len, .manifest_hash = hash };
        }
        if (store_apply(st, ops, k) != 0)
            return ODS_E_STORE;
    }
    return ODS_E_OK;
}

/* kb_put appends the advisory as the knowledge base holds it (its OSV document). */
static int
kb_put(struct kb_load *kb, const struct advisory *one, int64_t modified_ms)
{
    char *text = NULL;
    size_t tlen = 0;
    int rc;

    if ((rc = osv_format(&one, 1, one->id, &text, &tlen)) != 0)
        return rc;
    if (kb->n == kb->cap) {
        size_t cap = kb->cap ? kb->cap * 2 : 1024;
        struct kb_doc *g = reallocarray(kb->docs, cap, sizeof(*g));
        if (g == NULL) {
            free(text);
            return ODS_E_NOMEM;
        }
        kb->docs = g;
        kb->cap = cap;
    }
    kb->docs[kb->n] = (struct kb_doc){ .id = strdup(one->id), .modified_ms = modified_ms,
        .json = text, .len = tlen };
    if (kb->docs[kb->n].id == NULL) {
        free(text);
        return ODS_E_NOMEM;
    }
    kb->n++;
    return ODS_E_OK;
}

/* kb_import imports kb's documents from index from on, in one transaction. */
static int
kb_import(store_t *st, const struct kb_load *kb, size_t from, struct kb_counts *counts)
{
    struct kb_record *recs = calloc(kb->n - from + 1, sizeof(*recs));
    int rc;

    if (recs == NULL)
        return ODS_E_NOMEM;
    for (size_t i = from; i < kb->n; i++)
        recs[i - from] = (struct kb_record){ kb->docs[i].id, kb->docs[i].modified_ms,
            kb->docs[i].json, kb->docs[i].len, NULL, 0 };
    rc = store_kb_import(st, recs, kb->n - from, counts);
    free(recs);
    return rc;
}

/* kb_update is an incremental knowledge-base update, the usual import: UPDATE_PCT % of
 * the advisories modified (a new alias, which every finding of theirs carries) and
 * NEW_PCT % new ones (copies under new ids: new findings on the hosts they match). */
#define UPDATE_PCT 1
#define NEW_PCT    0.2
static int
kb_update(store_t *st, struct advisory_set *set, struct kb_load *kb, struct kb_counts *counts)
{
    size_t from = kb->n, every_new = (size_t)(100 / NEW_PCT);
    char id[160];
    int rc = ODS_E_OK;

    for (size_t i = 0; i < set->n && rc == ODS_E_OK; i++) {
        struct advisory *adv = set->items[i];
        if (i % (100 / UPDATE_PCT) == 0) {
            snprintf(id, sizeof(id), "CVE-BENCH-%06zu", i);
            if ((rc = advisory_add_alias(adv, id)) == ODS_E_OK)
                rc = kb_put(kb, adv, 2);
        }
        if (rc == ODS_E_OK && i % every_new == every_new / 2) {
            char *old = strdup(adv->id);
            snprintf(id, sizeof(id), "%s-NEW", adv->id);
            if (old == NULL || (rc = advisory_set_id(adv, id)) != ODS_E_OK ||
                (rc = kb_put(kb, adv, 2)) != ODS_E_OK || (rc = advisory_set_id(adv, old)) != 0)
                rc = rc != ODS_E_OK ? rc : ODS_E_NOMEM;
            free(old);
        }
    }
    return rc == ODS_E_OK ? kb_import(st, kb, from, counts) : rc;
}

/* assess_fleet is what odscand's thread runs after an import: the knowledge base loaded
 * back and indexed, every asset assessed from its stored manifest, its findings
 * written; prints the times on a line starting with what. */
static int
assess_fleet(store_t *st, const char *what, int64_t now)
{
    struct advisory_set loaded;
    struct matcher *m = NULL;
    int64_t *ids = NULL;
    size_t nids = 0, done = 0, bad = 0;
    int rc;

    advisory_set_init(&loaded);
    double t0 = wall_seconds();
    if ((rc = assess_kb_load(st, &loaded, &m, &bad)) != 0)
        goto out;
    double t1 = wall_seconds();
    if ((rc = store_manifest_assets(st, &ids, &nids)) != 0 ||
        (rc = assess_assets(st, m, ids, nids, now, &done)) != 0)
        goto out;
    double t2 = wall_seconds();
    printf("%s: knowledge base loaded and indexed in %.2f s; %zu hosts assessed and"
        " findings written in %.2f s; total %.2f s\n", what, t1 - t0, done, t2 - t1, t2 - t0);
out:
    free(ids);
    matcher_free(m);
    advisory_set_free(&loaded);
    return rc;
}

/* reassess: see the header comment. */
static int
reassess(struct advisory_set *set, size_t hosts, const char *url, const char *manifest_path)
{
    struct kb_load kb;
    struct kb_counts counts;
    store_t *st = NULL;
    char *doc = NULL, hash[65] = "";
    size_t len = 0;
    const char *why = NULL;
    int rc = ODS_E_NOMEM;
    FILE *fp = fopen(manifest_path, "r");

    kb_load_init(&kb);
    if (fp == NULL || getdelim(&doc, &len, '\0', fp) < 0) {
        fprintf(stderr, "vuln_bench: %s: cannot read\n", manifest_path);
        rc = ODS_E_IO;
        goto out;
    }
    len = strlen(doc);
    json_t *j = json_loads(doc, 0, NULL);
    const char *h = json_string_value(json_object_get(j, "manifest_hash"));
    snprintf(hash, sizeof(hash), "%s", h != NULL ? h : "");
    json_decref(j);
    if ((rc = store_open(url, &st, &why)) != 0) {
        fprintf(stderr, "vuln_bench: %s: %s\n", url, why != NULL ? why : err_msg(rc));
        goto out;
    }
    double t0 = wall_seconds();
    if ((rc = fleet_store(st, hosts, doc, len, hash)) != 0)
        goto out;
    for (size_t i = 0; i < set->n && rc == ODS_E_OK; i++)
        rc = kb_put(&kb, set->items[i], 1);
    if (rc != 0 || (rc = kb_import(st, &kb, 0, &counts)) != 0)
        goto out;
    printf("stored %zu hosts and %zu advisories in %.1f s\n", hosts, counts.added,
        wall_seconds() - t0);
    /* the first scan of every host: not the figure, every finding is new */
    if ((rc = assess_fleet(st, "initial assessment", 3)) != 0)
        goto out;
    if ((rc = kb_update(st, set, &kb, &counts)) != 0)
        goto out;
    printf("knowledge-base update imported: %zu advisories modified (%d %%), %zu new\n",
        counts.updated, UPDATE_PCT, counts.added);
    rc = assess_fleet(st, "re-assess after the update", 4);
out:
    if (fp != NULL)
        fclose(fp);
    free(doc);
    kb_load_free(&kb);
    store_close(st);
    return rc;
}

static double
cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    static struct host host;
    struct advisory_set set;
    struct matcher *m = NULL;
    const char *packages = NULL, *eco = "Debian:12", *db = NULL, *manifest = NULL;
    size_t fleet = 0;
    size_t rounds = 10000, synthetic = 0, findings = 0, entries, groups;
    bool list = false;
    double t0, t1;
    char why[OSV_WHY_MAX];
    int rc = 1;

    advisory_set_init(&set);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(arg, "--list") == 0) {
            list = true;
            continue;
        }
        if (val == NULL)
            goto usage;
        i++;
        if (strcmp(arg, "--packages") == 0) {
            packages = val;
        } else if (strcmp(arg, "--ecosystem") == 0) {
            eco = val;
        } else if (strcmp(arg, "--rounds") == 0) {
            rounds = strtoul(val, NULL, 10);
        } else if (strcmp(arg, "--affected-pct") == 0) {
            affected_pct = (unsigned)strtoul(val, NULL, 10);
        } else if (strcmp(arg, "--reassess") == 0) {
            fleet = strtoul(val, NULL, 10);
        } else if (strcmp(arg, "--db") == 0) {
            db = val;
        } else if (strcmp(arg, "--manifest") == 0) {
            manifest = val;
        } else if (strcmp(arg, "--synthetic") == 0) {
            synthetic = strtoul(val, NULL, 10);
        } else if (strcmp(arg, "--osv") == 0) {
            struct osv_load_stats st = { 0 };
            size_t len = strlen(val);
            int lrc = len > 4 && strcmp(val + len - 4, ".zip") == 0
                          ? osv_load_zip(val, &set, &st, why, sizeof(why))
                          : osv_load_dir(val, &set, &st, why, sizeof(why));

            if (lrc != 0) {
                fprintf(stderr, "vuln_bench: %s: %s\n", val, why);
                goto out;
            }
            printf("osv %s: %zu loaded, %zu rejected%s%s\n", val, st.loaded, st.rejected,
                st.rejected ? ", first: " : "", st.first_reject);
        } else if (strcmp(arg, "--tracker") == 0) {
            struct debtracker_stats st;

            if (debtracker_load_file(val, &set, &st, why, sizeof(why)) != 0) {
                fprintf(stderr, "vuln_bench: %s: %s\n", val, why);
                goto out;
            }
            printf("tracker %s: %zu advisories\n", val, st.advisories);
        } else if (strcmp(arg, "--vuln-list") == 0) {
            size_t n = 0;

            if (load_vuln_list(val, &set, &n) != 0) {
                fprintf(stderr, "vuln_bench: %s: cannot read\n", val);
                goto out;
            }
            printf("vuln-list %s: %zu advisories\n", val, n);
        } else {
            goto usage;
        }
    }
    if (packages == NULL)
        goto usage;
    if (load_packages(packages, &host) != 0 || host.n == 0) {
        fprintf(stderr, "vuln_bench: %s: no packages\n", packages);
        goto out;
    }
    if (synthetic > 0 && synthesize(&set, &host, synthetic, eco) != 0) {
        fprintf(stderr, "vuln_bench: cannot synthesize\n");
        goto out;
    }
    if (fleet > 0) {
        if (db == NULL || manifest == NULL)
            goto usage;
        rc = reassess(&set, fleet, db, manifest) == 0 ? 0 : 1;
        goto out;
    }
    t0 = cpu_seconds();
    if (matcher_build(&set, &m) != 0) {
        fprintf(stderr, "vuln_bench: matcher_build failed\n");
        goto out;
    }
    t1 = cpu_seconds();
    matcher_count(m, &entries, &groups);
    printf("%zu advisories, %zu entries in %zu groups; build %.1f ms CPU\n", set.n, entries,
        groups, (t1 - t0) * 1e3);
    if (list)
        matcher_assess(m, eco, host.pkgs, host.n, print_finding, NULL, NULL);

    t0 = cpu_seconds();
    for (size_t r = 0; r < rounds; r++) {
        size_t n = 0;

        matcher_assess(m, eco, host.pkgs, host.n, count_finding, &n, NULL);
        findings = n;
    }
    t1 = cpu_seconds();
    printf("host: %zu packages, %zu findings; %zu assessments: %.2f us CPU per host, %.0f hosts/s\n",
        host.n, findings, rounds, (t1 - t0) * 1e6 / (double)rounds,
        (double)rounds / (t1 - t0));
    rc = 0;
    goto out;
usage:
    fprintf(stderr, "usage: vuln_bench --packages FILE [--ecosystem E] [--rounds N] [--list]\n"
                    "       [--osv DIR|ZIP]... [--tracker FILE]... [--vuln-list DIR]... [--synthetic N]\n"
                    "       [--affected-pct P]\n"
                    "       [--reassess HOSTS --db URL --manifest FILE]\n");
out:
    matcher_free(m);
    advisory_set_free(&set);
    for (size_t i = 0; i < host.n; i++)
        free(host.lines[i]);
    return rc;
}
