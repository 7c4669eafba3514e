/* main.c - odscanctl, the administration CLI: global options, then a walk of the
 * command-group table to the command that runs. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct cli_group *const groups[] = {
    &cmd_user_group, &cmd_asset_group, &cmd_job_group, &cmd_audit_group, &cmd_key_group,
    &cmd_profile_group, &cmd_tag_group, &cmd_kb_group, &cmd_vuln_group,
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static void
usage(FILE *out)
{
    fprintf(out, "usage: %s (--state-dir DIR | --db URL) <group> <command> [args]\n"
        "       %s --help | --version\n\n"
        "  --state-dir DIR  use the database sqlite:DIR/odscan.db (as odscand does)\n"
        "  --db URL         use this database URL (sqlite:PATH, postgresql://USER@HOST/DB\n"
        "                   or a libpq \"key=value ...\" string)\n\ngroups:\n",
        CLI_PROG, CLI_PROG);
    for (size_t i = 0; i < NGROUPS; i++)
        fprintf(out, "  %-8s %s\n", groups[i]->name, groups[i]->help);
    fprintf(out, "\nEvery group and command accepts --help.\n");
}

static void
group_usage(FILE *out, const struct cli_group *g)
{
    fprintf(out, "usage: %s (--state-dir DIR | --db URL) %s <command> [args]\n%s\n\n"
        "commands:\n", CLI_PROG, g->name, g->help);
    for (size_t i = 0; i < g->ncommands; i++)
        fprintf(out, "  %s %s\n      %s\n", g->commands[i].name, g->commands[i].usage,
            g->commands[i].help);
}

static const struct cli_group *
group_find(const char *name)
{
    for (size_t i = 0; i < NGROUPS; i++)
        if (strcmp(groups[i]->name, name) == 0)
            return groups[i];
    return NULL;
}

static const struct cli_command *
command_find(const struct cli_group *g, const char *name)
{
    for (size_t i = 0; i < g->ncommands; i++)
        if (strcmp(g->commands[i].name, name) == 0)
            return &g->commands[i];
    return NULL;
}

/* run_group finds the command after the group name and runs it. */
static int
run_group(struct cli_call *call, int argc, char **argv)
{
    if (argc < 1) {
        group_usage(stderr, call->group);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[0], "--help") == 0) {
        group_usage(stdout, call->group);
        return CLI_EXIT_OK;
    }
    call->cmd = command_find(call->group, argv[0]);
    if (call->cmd == NULL)
        return cli_usage_error("unknown command '%s %s' (see %s %s --help)",
            call->group->name, argv[0], CLI_PROG, call->group->name);
    return call->cmd->run(call, argc - 1, argv + 1);
}

int
main(int argc, char **argv)
{
    struct cli_call call = { 0 };
    bool help = false, version = false;
    const struct cli_opt global[] = {
        { "--state-dir", &call.state_dir, NULL },
        { "--db",        &call.db_url,    NULL },
        { "--help",      NULL,            &help },
        { "--version",   NULL,            &version },
    };
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        int rc = cli_match_opt(global, sizeof(global) / sizeof(global[0]), argc, argv, &i);
        if (rc == 0)
            return cli_usage_error("unknown option '%s' (see %s --help)", argv[i], CLI_PROG);
        if (rc != 1)
            return rc;
    }
    if (help) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (version) {
        printf("%s %s\n", CLI_PROG, ODSCAN_VERSION);
        return CLI_EXIT_OK;
    }
    if (call.state_dir != NULL && call.db_url != NULL)
        return cli_usage_error("give --state-dir or --db, not both");
    if (i >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    call.group = group_find(argv[i]);
    if (call.group == NULL)
        return cli_usage_error("unknown command group '%s' (see %s --help)", argv[i], CLI_PROG);
    return run_group(&call, argc - i - 1, argv + i + 1);
}
