/* main.c - odscan-agent: parse the command line and hand over to the daemon
 * (agent_run) or to one of the local diagnostic commands (diag.c). */
#include "agent.h"
#include "cpu.h"
#include "diag.h"
#include "err.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#define ERR_MAX 1024

struct opt {
    const char  *name;
    const char **value;   /* option with an argument */
    bool        *flag;    /* option without one */
};

struct command {
    const char *name;
    int       (*run)(int argc, char **argv);
};

static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", AGENT_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return AGENT_EXIT_USAGE;
}

static int
runtime_error(const char *msg)
{
    fprintf(stderr, "%s: %s\n", AGENT_PROG, msg);
    return AGENT_EXIT_RUNTIME;
}

static void
usage(FILE *out)
{
    fprintf(out,
        "usage: %s --server URL --state-dir DIR [--activation-key KEY] [--ca-cert FILE]\n"
        "                    [--foreground] [--log-level debug|info|warn|error]\n"
        "       %s scan TYPE [--cpu-limit P] [--cpu-throttle T] [--output FILE]\n"
        "       %s diag cpu-burn --seconds S [--cpu-limit P] [--cpu-throttle T]\n"
        "       %s --help | --version\n\n"
        "  --server URL          odscand base URL (https://; http:// only to loopback)\n"
        "  --activation-key KEY  enrollment key, needed until DIR/identity.json exists\n"
        "  --state-dir DIR       identity, result spool, agent.log and agent.pid\n"
        "  --ca-cert FILE        trust this PEM certificate instead of the system store\n"
        "  --foreground          do not daemonize; log to stderr\n"
        "  --log-level L         minimum level logged (default info)\n\n"
        "  scan TYPE             run one scan here (e.g. Inventory_Scan), print its JSON\n"
        "  diag cpu-burn         burn CPU in a scan child, print the CPU share it got\n"
        "  --cpu-limit P         percent of one core, 2..100 (default 100: no limit)\n"
        "  --cpu-throttle T      sleep T/100 x the CPU time of each work slice, 0..1000\n",
        AGENT_PROG, AGENT_PROG, AGENT_PROG, AGENT_PROG);
}

/* parse_opts walks argv[from..] against the table. Returns 0 or an exit code. */
static int
parse_opts(const struct opt *opts, size_t nopts, int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++) {
        const struct opt *o = NULL;
        for (size_t k = 0; k < nopts; k++)
            if (strcmp(argv[i], opts[k].name) == 0)
                o = &opts[k];
        if (o == NULL)
            return usage_error("unknown %s '%s' (see %s --help)",
                argv[i][0] == '-' ? "option" : "argument", argv[i], AGENT_PROG);
        if (o->flag != NULL) {
            *o->flag = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage_error("%s needs a value", o->name);
        *o->value = argv[++i];
    }
    return AGENT_EXIT_OK;
}

/* parse_range parses an optional numeric option value into *out. */
static int
parse_range(const char *name, const char *value, unsigned min, unsigned max, unsigned *out)
{
    uint64_t v;

    if (value == NULL)
        return AGENT_EXIT_OK;
    if (parse_u64(value, max, &v) != ODS_E_OK || v < min)
        return usage_error("%s expects a number from %u to %u", name, min, max);
    *out = (unsigned)v;
    return AGENT_EXIT_OK;
}

static int
parse_cpu(const char *limit, const char *throttle, struct diag_cpu *cpu)
{
    int rc;

    cpu->cpu_limit = CPU_LIMIT_MAX;
    cpu->cpu_throttle = 0;
    if ((rc = parse_range("--cpu-limit", limit, CPU_LIMIT_MIN, CPU_LIMIT_MAX, &cpu->cpu_limit)) != 0)
        return rc;
    return parse_range("--cpu-throttle", throttle, 0, CPU_THROTTLE_MAX, &cpu->cpu_throttle);
}

static int
cmd_scan(int argc, char **argv)
{
    const char *limit = NULL, *throttle = NULL, *output = NULL;
    const struct opt opts[] = {
        { "--cpu-limit", &limit, NULL }, { "--cpu-throttle", &throttle, NULL },
        { "--output", &output, NULL },
    };
    struct diag_cpu cpu;
    char err[ERR_MAX];
    FILE *out = stdout;
    int rc;

    if (argc < 1 || argv[0][0] == '-')
        return usage_error("scan needs a scan type (e.g. Inventory_Scan)");
    if ((rc = parse_opts(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, 1)) != 0
        || (rc = parse_cpu(limit, throttle, &cpu)) != 0)
        return rc;
    if (output != NULL && (out = fopen(output, "we")) == NULL) {
        snprintf(err, sizeof(err), "cannot create %s", output);
        return runtime_error(err);
    }
    rc = diag_scan(argv[0], &cpu, out, err, sizeof(err));
    if (out != stdout && fclose(out) != 0 && rc == ODS_E_OK) {
        snprintf(err, sizeof(err), "cannot write %s", output);
        rc = ODS_E_IO;
    }
    if (rc == ODS_E_INVAL)
        return usage_error("%s", err);
    return rc == ODS_E_OK ? AGENT_EXIT_OK : runtime_error(err);
}

static int
cmd_cpu_burn(int argc, char **argv)
{
    const char *seconds = NULL, *limit = NULL, *throttle = NULL;
    const struct opt opts[] = {
        { "--seconds", &seconds, NULL }, { "--cpu-limit", &limit, NULL },
        { "--cpu-throttle", &throttle, NULL },
    };
    struct diag_cpu cpu;
    unsigned secs = 0;
    char err[ERR_MAX];
    int rc;

    if ((rc = parse_opts(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, 0)) != 0
        || (rc = parse_cpu(limit, throttle, &cpu)) != 0)
        return rc;
    if (seconds == NULL)
        return usage_error("diag cpu-burn needs --seconds");
    if ((rc = parse_range("--seconds", seconds, 1, 3600, &secs)) != 0)
        return rc;
    rc = diag_cpu_burn(secs, &cpu, stdout, err, sizeof(err));
    return rc == ODS_E_OK ? AGENT_EXIT_OK : runtime_error(err);
}

static const struct command diag_commands[] = {
    { "cpu-burn", cmd_cpu_burn },
};

static int
dispatch(const struct command *cmds, size_t ncmds, const char *what, int argc, char **argv)
{
    if (argc < 1)
        return usage_error("%s needs a command (see %s --help)", what, AGENT_PROG);
    for (size_t i = 0; i < ncmds; i++)
        if (strcmp(argv[0], cmds[i].name) == 0)
            return cmds[i].run(argc - 1, argv + 1);
    return usage_error("unknown %s command '%s' (see %s --help)", what, argv[0], AGENT_PROG);
}

static int
cmd_diag(int argc, char **argv)
{
    return dispatch(diag_commands, sizeof(diag_commands) / sizeof(diag_commands[0]), "diag",
        argc, argv);
}

static const struct command commands[] = {
    { "scan", cmd_scan },
    { "diag", cmd_diag },
};

/* cmd_daemon is the default: the check-in loop against a server. */
static int
cmd_daemon(int argc, char **argv)
{
    struct agent_config cfg = { .log_level = LOG_INFO };
    const char *level = NULL;
    bool help = false, version = false;
    const struct opt opts[] = {
        { "--server", &cfg.server, NULL }, { "--activation-key", &cfg.activation_key, NULL },
        { "--state-dir", &cfg.state_dir, NULL }, { "--ca-cert", &cfg.ca_cert, NULL },
        { "--foreground", NULL, &cfg.foreground }, { "--log-level", &level, NULL },
        { "--help", NULL, &help }, { "--version", NULL, &version },
    };
    char err[ERR_MAX] = "";
    int rc;

    if ((rc = parse_opts(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, 0)) != 0)
        return rc;
    if (help) {
        usage(stdout);
        return AGENT_EXIT_OK;
    }
    if (version) {
        printf("%s %s\n", AGENT_PROG, ODSCAN_VERSION);
        return AGENT_EXIT_OK;
    }
    if (level != NULL && log_parse_level(level, &cfg.log_level) != ODS_E_OK)
        return usage_error("--log-level expects debug, info, warn or error");
    if (cfg.server == NULL || cfg.state_dir == NULL)
        return usage_error("--server and --state-dir are required (see %s --help)", AGENT_PROG);
    rc = agent_run(&cfg, err, sizeof(err));
    if (rc == ODS_E_INVAL)
        return usage_error("%s", err);
    return rc == ODS_E_OK ? AGENT_EXIT_OK : runtime_error(err);
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return runtime_error("cannot initialise libsodium");
    if (argc >= 2 && argv[1][0] != '-')
        return dispatch(commands, sizeof(commands) / sizeof(commands[0]), "top-level", argc - 1,
            argv + 1);
    return cmd_daemon(argc - 1, argv + 1);
}
