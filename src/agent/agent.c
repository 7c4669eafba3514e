/* agent.c - start-up of the daemon: state directory and identity, the HTTP client,
 * daemonizing, signals; then the check-in loop. */
#include "agent.h"
#include "agent_client.h"
#include "checkin.h"
#include "err.h"
#include "identity.h"
#include "signals.h"
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int __attribute__((format(printf, 4, 5)))
fail(int rc, char *err, size_t n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(err, n, fmt, ap) < 0 && n > 0)
        err[0] = '\0';
    va_end(ap);
    return rc;
}

/* prepare_state makes the state directory and loads the identity when there is one.
 * dir receives the absolute path (the daemon changes to "/"). */
static int
prepare_state(const struct agent_config *cfg, struct checkin_config *ck, char *dir, char *err, size_t n)
{
    int rc;

    if (statefile_mkdir(cfg->state_dir) != ODS_E_OK)
        return fail(ODS_E_IO, err, n, "cannot create the state directory %s: %s", cfg->state_dir,
            strerror(errno));
    if (realpath(cfg->state_dir, dir) == NULL)
        return fail(ODS_E_IO, err, n, "%s: %s", cfg->state_dir, strerror(errno));
    rc = identity_load(dir, &ck->identity);
    if (rc == ODS_E_OK) {
        ck->enrolled = true;
        return ODS_E_OK;
    }
    if (rc == ODS_E_NOTFOUND) {
        if (cfg->activation_key == NULL || cfg->activation_key[0] == '\0')
            return fail(ODS_E_INVAL, err, n, "--activation-key is needed until %s/%s exists",
                dir, IDENTITY_FILE);
        return ODS_E_OK;
    }
    return fail(rc, err, n, "%s/%s: %s", dir, IDENTITY_FILE, err_msg(rc));
}

/* redirect points fd at path (opened with flags), keeping fd's number. */
static int
redirect(int fd, const char *path, int flags)
{
    int new = open(path, flags | O_CLOEXEC, 0600);
    int rc = ODS_E_OK;

    if (new < 0)
        return ODS_E_IO;
    if (dup2(new, fd) < 0)
        rc = ODS_E_IO;
    close(new);
    return rc;
}

/* daemonize detaches from the terminal: fork (the parent exits 0), setsid, fork
 * again so no terminal can be reacquired, cwd "/", stdin from /dev/null, stdout and
 * stderr appended to DIR/agent.log; then writes DIR/agent.pid. */
static int
daemonize(const char *dir, char *err, size_t n)
{
    char log_path[PATH_MAX], pid[32];
    int len = snprintf(log_path, sizeof(log_path), "%s/%s", dir, AGENT_LOG);

    if (len < 0 || (size_t)len >= sizeof(log_path))
        return fail(ODS_E_TOOBIG, err, n, "state directory path too long");
    /* Open the log before detaching so a failure still reaches the terminal. */
    if (access(dir, W_OK) != 0)
        return fail(ODS_E_IO, err, n, "%s: %s", dir, strerror(errno));
    for (int round = 0; round < 2; round++) {
        pid_t child = fork();
        if (child < 0)
            return fail(ODS_E_IO, err, n, "fork: %s", strerror(errno));
        if (child > 0)
            _exit(AGENT_EXIT_OK);
        if (round == 0 && setsid() < 0)
            return fail(ODS_E_IO, err, n, "setsid: %s", strerror(errno));
    }
    umask(077);
    if (chdir("/") != 0 || redirect(STDIN_FILENO, "/dev/null", O_RDONLY) != ODS_E_OK
        || redirect(STDOUT_FILENO, log_path, O_WRONLY | O_CREAT | O_APPEND) != ODS_E_OK
        || dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
        return fail(ODS_E_IO, err, n, "cannot detach: %s", strerror(errno));
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (len < 0 || (size_t)len >= sizeof(pid) || statefile_write(dir, AGENT_PIDFILE, pid, (size_t)len, 0644) != ODS_E_OK)
        log_warn("%s: cannot write %s/%s: %m", __func__, dir, AGENT_PIDFILE);
    return ODS_E_OK;
}

int
agent_run(const struct agent_config *cfg, char *err, size_t n)
{
    struct checkin_config ck = { .server = cfg->server, .activation_key = cfg->activation_key };
    char dir[PATH_MAX];
    int rc;

    log_set_level(cfg->log_level);
    if ((rc = agent_client_check_url(cfg->server, err, n)) != ODS_E_OK)
        return rc;
    if (cfg->ca_cert != NULL && access(cfg->ca_cert, R_OK) != 0)
        return fail(ODS_E_IO, err, n, "--ca-cert %s: %s", cfg->ca_cert, strerror(errno));
    if ((rc = prepare_state(cfg, &ck, dir, err, n)) != ODS_E_OK)
        return rc;
    ck.state_dir = dir;
    if (ck.enrolled && strcmp(ck.identity.server, cfg->server) != 0)
        log_warn("enrolled with %s, now talking to %s", ck.identity.server, cfg->server);
    if (!cfg->foreground && (rc = daemonize(dir, err, n)) != ODS_E_OK)
        return rc;
    if (signals_install() != ODS_E_OK)
        return fail(ODS_E_IO, err, n, "cannot install signal handlers");
    if (agent_client_global_init() != ODS_E_OK)
        return fail(ODS_E_IO, err, n, "cannot initialise libcurl");
    rc = agent_client_new(cfg->server, cfg->ca_cert, signals_stop_requested, &ck.client);
    if (rc != ODS_E_OK) {
        agent_client_global_cleanup();
        return fail(rc, err, n, "cannot make the HTTP client: %s", err_msg(rc));
    }
    log_info("%s %s: state %s, server %s%s", AGENT_PROG, ODSCAN_VERSION, dir, cfg->server,
        ck.enrolled ? "" : " (enrolling)");
    rc = checkin_run(&ck);
    if (rc != ODS_E_OK)
        fail(rc, err, n, "%s", rc == ODS_E_AUTH ? "the activation key was refused"
            : rc == ODS_E_IO ? "cannot save the identity" : err_msg(rc));
    agent_client_free(ck.client);
    agent_client_global_cleanup();
    if (!cfg->foreground) {
        char pidfile[PATH_MAX + 16];
        int len = snprintf(pidfile, sizeof(pidfile), "%s/%s", dir, AGENT_PIDFILE);
        if (len > 0 && (size_t)len < sizeof(pidfile))
            unlink(pidfile);
    }
    explicit_bzero(&ck.identity, sizeof(ck.identity));
    return rc;
}
