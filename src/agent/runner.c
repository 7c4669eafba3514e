/* runner.c - the scan child: fork, let the CPU control take hold, run the scan,
 * stream its JSON back through a pipe; the parent bounds the result, samples and
 * duty-cycles the child, and reaps it with its resource usage. */
#include "runner.h"
#include "buf.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* The first byte the child writes says what follows. */
#define TAG_RESULT 'R'   /* compact JSON */
#define TAG_FAILED 'F'   /* a one-line reason */
#define CHILD_EXIT_SETUP 70

struct child_io {
    int  fd;
    bool failed;
};

static int
write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ODS_E_IO;
        p += n;
        len -= (size_t)n;
    }
    return ODS_E_OK;
}

static int
dump_to_fd(const char *p, size_t len, void *arg)
{
    struct child_io *io = arg;

    if (write_all(io->fd, p, len) != ODS_E_OK) {
        io->failed = true;
        return -1;
    }
    return 0;
}

/* child_signals gives the child default dispositions: it must die of a crash (so
 * the parent reports the signal) and of SIGTERM, whatever handlers the agent has. */
static void
child_signals(void)
{
    static const int defaults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGINT,
        SIGHUP, SIGPIPE };
    sigset_t none;

    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        signal(defaults[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* child_main runs in the forked child and never returns. */
static void __attribute__((noreturn))
child_main(const struct runner_task *t, int go_fd, int out_fd)
{
    char reason[SCAN_REASON_MAX] = "";
    json_t *result = NULL;
    struct child_io io = { out_fd, false };
    char go;

    child_signals();
    cpu_child_enter(t->cpu_throttle);
    /* Wait until the parent has put us under CPU control. */
    while (read(go_fd, &go, 1) < 0 && errno == EINTR)
        ;
    close(go_fd);
    int rc = t->run(&t->ctx, &result, reason, sizeof(reason));
    if (rc != ODS_E_OK || result == NULL) {
        char tag = TAG_FAILED;
        if (reason[0] == '\0')
            snprintf(reason, sizeof(reason), "scan failed: %s", err_msg(rc));
        if (write_all(out_fd, &tag, 1) != ODS_E_OK || write_all(out_fd, reason, strlen(reason)) != ODS_E_OK)
            _exit(CHILD_EXIT_SETUP);
        _exit(0);
    }
    char tag = TAG_RESULT;
    if (write_all(out_fd, &tag, 1) != ODS_E_OK
        || json_dump_callback(result, dump_to_fd, &io, JSON_COMPACT) != 0 || io.failed)
        _exit(CHILD_EXIT_SETUP);
    _exit(0);
}

static double
tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void __attribute__((format(printf, 2, 3)))
set_reason(struct runner_outcome *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(out->reason, sizeof(out->reason), fmt, ap) < 0)
        out->reason[0] = '\0';
    va_end(ap);
}

/* collect reads what the child wrote until EOF, ticking the CPU control and the
 * caller. Returns 0 at EOF, ODS_E_TOOBIG past the limit, ODS_E_SHUTDOWN, ODS_E_IO. */
static int
collect(const struct runner_task *t, struct cpu_ctl *ctl, int fd, struct buf *b)
{
    char chunk[65536];

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n = poll(&pfd, 1, CPU_TICK_MS);
        if (n < 0 && errno != EINTR)
            return ODS_E_IO;
        cpu_ctl_tick(ctl);
        if (t->should_stop != NULL && t->should_stop())
            return ODS_E_SHUTDOWN;
        if (t->tick != NULL)
            t->tick(t->tick_arg);
        if (n <= 0)
            continue;
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got < 0)
            return ODS_E_IO;
        if (got == 0)
            return ODS_E_OK;
        int rc = buf_append(b, chunk, (size_t)got);
        if (rc != ODS_E_OK)
            return rc;
    }
}

/* judge turns the child's exit and output into the outcome. */
static int
judge(struct runner_outcome *out, int status, const struct buf *b)
{
    if (WIFSIGNALED(status)) {
        set_reason(out, "scan process killed by signal %d", WTERMSIG(status));
        return ODS_E_OK;
    }
    if (WEXITSTATUS(status) != 0 || b->len == 0) {
        set_reason(out, "scan process exited with status %d and no result", WEXITSTATUS(status));
        return ODS_E_OK;
    }
    if (b->data[0] != TAG_RESULT) {
        /* TAG_FAILED: the rest is the scan's own reason. */
        size_t len = b->len - 1 < sizeof(out->reason) - 1 ? b->len - 1 : sizeof(out->reason) - 1;
        memcpy(out->reason, b->data + 1, len);
        out->reason[len] = '\0';
        return ODS_E_OK;
    }
    json_error_t jerr;
    out->result = json_loadb(b->data + 1, b->len - 1, 0, &jerr);
    if (out->result == NULL) {
        set_reason(out, "scan process wrote malformed JSON (%d)", jerr.line);
        return ODS_E_OK;
    }
    out->completed = true;
    return ODS_E_OK;
}

int
runner_run(const struct runner_task *task, struct runner_outcome *out)
{
    int go[2] = { -1, -1 }, res[2] = { -1, -1 };
    struct cpu_ctl ctl;
    struct buf b;
    struct rusage ru;
    struct timespec t0, t1;
    pid_t pid = -1;
    int status = 0, rc = ODS_E_IO;

    memset(out, 0, sizeof(*out));
    memset(&ctl, 0, sizeof(ctl));
    buf_init(&b, RUNNER_RESULT_MAX + 1);
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(res, O_CLOEXEC) != 0)
        goto out;
    pid = fork();
    if (pid < 0)
        goto out;
    if (pid == 0) {
        close(go[1]);
        close(res[0]);
        child_main(task, go[0], res[1]);
    }
    close(go[0]);
    go[0] = -1;
    close(res[1]);
    res[1] = -1;
    /* A limit we cannot enforce does not stop the scan; the method says "none". */
    cpu_ctl_attach(&ctl, pid, task->cpu_limit, task->allow_cgroup);
    out->method = ctl.method;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (write_all(go[1], "g", 1) != ODS_E_OK)
        goto reap;
    rc = collect(task, &ctl, res[0], &b);
reap:
    cpu_ctl_resume(&ctl);
    if (rc != ODS_E_OK)
        kill(pid, SIGKILL);
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            rc = ODS_E_IO;
            goto out;
        }
    }
    pid = -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    out->cpu_s = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
    if (rc == ODS_E_TOOBIG) {
        set_reason(out, "scan result exceeds %d MiB", (int)(RUNNER_RESULT_MAX >> 20));
        rc = ODS_E_OK;
    } else if (rc == ODS_E_OK) {
        rc = judge(out, status, &b);
    }
out:
    cpu_ctl_release(&ctl);
    for (int i = 0; i < 2; i++) {
        if (go[i] >= 0)
            close(go[i]);
        if (res[i] >= 0)
            close(res[i]);
    }
    buf_free(&b);
    return rc;
}
