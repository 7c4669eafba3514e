/* cmd_kb.c - `odscanctl kb ...`: the vulnerability knowledge base. Imports are one
 * transaction and incremental by advisory id and modified time; running servers notice
 * the change within a second and re-assess the fleet. */
#include "cli.h"
#include "err.h"
#include "kbsource.h"

#include <stdio.h>
#include <stdlib.h>

static int
kb_import(const struct cli_call *call, int argc, char **argv)
{
    const char *pos[1] = { NULL };
    bool strict = false, json = false;
    const struct cli_opt opts[] = { { "--strict", NULL, &strict }, { "--json", NULL, &json } };
    struct kb_load kb;
    struct kb_counts counts = { 0 };
    struct kb_record *recs = NULL;
    char why[KB_REJECT_WHY_MAX];
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, opts, 2, pos, 1);

    if (rc != CLI_CONTINUE)
        return rc;
    kb_load_init(&kb);
    if ((rc = kb_load_path(pos[0], &kb, why, sizeof(why))) != ODS_E_OK) {
        rc = cli_fail("cannot read %s: %s", pos[0], why);
        goto out;
    }
    for (size_t i = 0; i < kb.nrejects && i < KB_REJECTS_KEPT; i++)
        fprintf(stderr, "%s: rejected %s\n", CLI_PROG, kb.rejects[i].why);
    if (kb.nrejects > KB_REJECTS_KEPT)
        fprintf(stderr, "%s: ... and %zu more rejected\n", CLI_PROG, kb.nrejects - KB_REJECTS_KEPT);
    if (strict && kb.nrejects > 0) {
        rc = cli_fail("--strict: %zu malformed record(s); nothing was imported", kb.nrejects);
        goto out;
    }
    if (kb.n > 0 && (recs = calloc(kb.n, sizeof(*recs))) == NULL) {
        rc = cli_fail("out of memory");
        goto out;
    }
    for (size_t i = 0; i < kb.n; i++)
        recs[i] = (struct kb_record){ kb.docs[i].id, kb.docs[i].modified_ms, kb.docs[i].json,
            kb.docs[i].len, (const char *const *)kb.docs[i].aliases, kb.docs[i].naliases };
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        goto out;
    if ((rc = store_kb_import(st, recs, kb.n, &counts)) != ODS_E_OK) {
        rc = cli_store_fail(rc, "importing %s", pos[0]);
        goto out;
    }
    if (json)
        rc = cli_json_print(json_pack("{s:I, s:I, s:I, s:I}", "added", (json_int_t)counts.added,
            "updated", (json_int_t)counts.updated, "skipped", (json_int_t)counts.skipped,
            "rejected", (json_int_t)kb.nrejects));
    else
        printf("added %zu, updated %zu, skipped %zu, rejected %zu\n", counts.added,
            counts.updated, counts.skipped, kb.nrejects);
out:
    free(recs);
    kb_load_free(&kb);
    store_close(st);
    return rc;
}

static int
kb_status(const struct cli_call *call, int argc, char **argv)
{
    size_t n = 0;
    int64_t epoch = 0;
    store_t *st = NULL;
    int rc = cli_parse(call, argc, argv, NULL, 0, NULL, 0);

    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_store_open(call, &st)) != CLI_EXIT_OK)
        return rc;
    if ((rc = store_kb_count(st, &n)) == ODS_E_OK)
        rc = store_kb_epoch(st, &epoch);
    if (rc != ODS_E_OK)
        rc = cli_store_fail(rc, "reading the knowledge base");
    else
        printf("advisories %zu, epoch %lld\n", n, (long long)epoch);
    store_close(st);
    return rc;
}

static const struct cli_command kb_commands[] = {
    { "import", kb_import, "PATH [--strict] [--json]",
      "Import OSV JSON (a file, a directory of files, a zip) or the Debian tracker export;"
      " malformed records are rejected by name (--strict: then nothing is imported)." },
    { "status", kb_status, "",
      "Show how many advisories the knowledge base holds and its epoch." },
};

const struct cli_group cmd_kb_group = {
    "kb", kb_commands, sizeof(kb_commands) / sizeof(kb_commands[0]),
    "the vulnerability knowledge base",
};
