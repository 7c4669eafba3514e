/* cpu.c - CPU control of scan children: cgroup v2 cpu.max when available, else a
 * SIGSTOP/SIGCONT duty cycle driven by the child's CPU clock; plus the cooperative
 * throttle the scan applies to itself at each checkpoint. */
#include "cpu.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define NS_PER_MS 1000000LL
#define NS_PER_S  1000000000LL
#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_PERIOD_US 100000
#define CGROUP_FILE_MAX 4096

static const char *const method_names[] = { "none", "cgroup", "sigstop" };

/* Child side: the cooperative throttle. */
static unsigned child_throttle;
static int64_t  child_slice_start_ns;

const char *
cpu_method_name(enum cpu_method m)
{
    if ((unsigned)m >= sizeof(method_names) / sizeof(method_names[0]))
        return "none";
    return method_names[m];
}

static int64_t
clock_ns(clockid_t clk, bool *ok)
{
    struct timespec ts;

    if (clock_gettime(clk, &ts) != 0) {
        if (ok != NULL)
            *ok = false;
        return 0;
    }
    if (ok != NULL)
        *ok = true;
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t
cpu_self_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID, NULL);
}

/* ---- cgroup v2 ------------------------------------------------------------------ */

static int
read_small(const char *path, char *dst, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got;

    if (fd < 0)
        return ODS_E_IO;
    got = read(fd, dst, n - 1);
    close(fd);
    if (got < 0)
        return ODS_E_IO;
    dst[got] = '\0';
    return ODS_E_OK;
}

static int
write_small(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(text);
    int rc = ODS_E_OK;

    if (fd < 0)
        return ODS_E_IO;
    if (write(fd, text, len) != (ssize_t)len)
        rc = ODS_E_IO;
    if (close(fd) != 0)
        rc = ODS_E_IO;
    return rc;
}

/* has_word tells whether the space-separated list contains word. */
static bool
has_word(const char *list, const char *word)
{
    size_t wlen = strlen(word);

    for (const char *p = list; (p = strstr(p, word)) != NULL; p += wlen) {
        bool start = p == list || p[-1] == ' ';
        bool end = p[wlen] == '\0' || p[wlen] == ' ' || p[wlen] == '\n';
        if (start && end)
            return true;
    }
    return false;
}

/* own_cgroup finds this process's cgroup v2 directory from the "0::" line. */
static int
own_cgroup(char *dst, size_t n)
{
    char text[CGROUP_FILE_MAX];
    char *line;

    if (read_small("/proc/self/cgroup", text, sizeof(text)) != ODS_E_OK)
        return ODS_E_IO;
    line = strstr(text, "0::");
    if (line == NULL || (line != text && line[-1] != '\n'))
        return ODS_E_UNSUPPORTED;
    line += 3;
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, "/") == 0)
        line = "";
    int len = snprintf(dst, n, "%s%s", CGROUP_ROOT, line);
    return (len < 0 || (size_t)len >= n) ? ODS_E_TOOBIG : ODS_E_OK;
}

/* cgroup_attach moves pid into a new child cgroup with cpu.max set; on any failure
 * nothing is left behind and the caller falls back to the duty cycle. */
static int
cgroup_attach(struct cpu_ctl *c)
{
    char text[CGROUP_FILE_MAX], parent[PATH_MAX], path[PATH_MAX], value[64];
    int rc = ODS_E_UNSUPPORTED, n;

    if (read_small(CGROUP_ROOT "/cgroup.controllers", text, sizeof(text)) != ODS_E_OK
        || !has_word(text, "cpu"))
        return ODS_E_UNSUPPORTED;
    if (own_cgroup(parent, sizeof(parent)) != ODS_E_OK)
        return ODS_E_UNSUPPORTED;
    n = snprintf(path, sizeof(path), "%s/cgroup.subtree_control", parent);
    if (n < 0 || (size_t)n >= sizeof(path) || read_small(path, text, sizeof(text)) != ODS_E_OK)
        return ODS_E_UNSUPPORTED;
    /* XXX enabling +cpu fails (EBUSY) when the agent's own cgroup is a non-root leaf
     * with processes in it; run the agent in a delegated cgroup whose subtree already
     * has cpu enabled, or the duty cycle is used. */
    if (!has_word(text, "cpu") && write_small(path, "+cpu") != ODS_E_OK)
        return ODS_E_UNSUPPORTED;
    n = snprintf(c->cgroup, sizeof(c->cgroup), "%s/odscan-scan-%ld", parent, (long)c->pid);
    if (n < 0 || (size_t)n >= sizeof(c->cgroup) || mkdir(c->cgroup, 0755) != 0) {
        c->cgroup[0] = '\0';
        return ODS_E_UNSUPPORTED;
    }
    n = snprintf(value, sizeof(value), "%u %d", c->limit * (CGROUP_PERIOD_US / 100), CGROUP_PERIOD_US);
    if (n < 0 || (size_t)n >= sizeof(value))
        goto out;
    n = snprintf(path, sizeof(path), "%s/cpu.max", c->cgroup);
    if (n < 0 || (size_t)n >= sizeof(path) || write_small(path, value) != ODS_E_OK)
        goto out;
    n = snprintf(value, sizeof(value), "%ld", (long)c->pid);
    if (n < 0 || (size_t)n >= sizeof(value))
        goto out;
    n = snprintf(path, sizeof(path), "%s/cgroup.procs", c->cgroup);
    if (n < 0 || (size_t)n >= sizeof(path) || write_small(path, value) != ODS_E_OK)
        goto out;
    rc = ODS_E_OK;
out:
    if (rc != ODS_E_OK) {
        rmdir(c->cgroup);
        c->cgroup[0] = '\0';
    }
    return rc;
}

/* ---- parent side ------------------------------------------------------------------ */

int
cpu_ctl_attach(struct cpu_ctl *c, pid_t pid, unsigned limit, bool allow_cgroup)
{
    memset(c, 0, sizeof(*c));
    c->pid = pid;
    c->limit = limit < CPU_LIMIT_MIN ? CPU_LIMIT_MIN : limit > CPU_LIMIT_MAX ? CPU_LIMIT_MAX : limit;
    c->method = CPU_METHOD_NONE;
    if (c->limit >= CPU_LIMIT_MAX)
        return ODS_E_OK;
    if (allow_cgroup && cgroup_attach(c) == ODS_E_OK) {
        c->method = CPU_METHOD_CGROUP;
        return ODS_E_OK;
    }
    if (clock_getcpuclockid(pid, &c->clock) != 0)
        return ODS_E_IO;
    c->last_cpu_ns = clock_ns(c->clock, &c->clock_ok);
    if (!c->clock_ok)
        return ODS_E_IO;
    c->last_wall_ns = clock_ns(CLOCK_MONOTONIC, NULL);
    c->tokens_ns = 0;
    c->method = CPU_METHOD_SIGSTOP;
    return ODS_E_OK;
}

void
cpu_ctl_tick(struct cpu_ctl *c)
{
    bool ok = false;

    if (c->method != CPU_METHOD_SIGSTOP)
        return;
    int64_t wall = clock_ns(CLOCK_MONOTONIC, NULL);
    int64_t cpu = clock_ns(c->clock, &ok);
    if (!ok)
        return;   /* the child is exiting */
    /* Refill limit% of the wall time that passed, spend the CPU time used. */
    c->tokens_ns += (wall - c->last_wall_ns) * (int64_t)c->limit / 100 - (cpu - c->last_cpu_ns);
    if (c->tokens_ns > CPU_BURST_MS * NS_PER_MS)
        c->tokens_ns = CPU_BURST_MS * NS_PER_MS;
    c->last_wall_ns = wall;
    c->last_cpu_ns = cpu;
    if (!c->stopped && c->tokens_ns < 0) {
        if (kill(c->pid, SIGSTOP) == 0)
            c->stopped = true;
    } else if (c->stopped && c->tokens_ns >= 0) {
        cpu_ctl_resume(c);
    }
}

void
cpu_ctl_resume(struct cpu_ctl *c)
{
    if (!c->stopped)
        return;
    kill(c->pid, SIGCONT);
    c->stopped = false;
}

void
cpu_ctl_release(struct cpu_ctl *c)
{
    if (c->cgroup[0] != '\0') {
        rmdir(c->cgroup);
        c->cgroup[0] = '\0';
    }
    c->stopped = false;
}

/* ---- child side ----------------------------------------------------------------- */

void
cpu_child_enter(unsigned throttle)
{
    /* A scan must not outlive (or stay stopped beyond) the agent that runs it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    errno = 0;
    if (setpriority(PRIO_PROCESS, 0, CPU_SCAN_NICE) != 0 && errno != 0)
        errno = 0;   /* best effort: an unprivileged agent may already be nicer */
    child_throttle = throttle > CPU_THROTTLE_MAX ? CPU_THROTTLE_MAX : throttle;
    child_slice_start_ns = cpu_self_ns();
}

void
cpu_slice_done(void)
{
    if (child_throttle == 0)
        return;
    int64_t now = cpu_self_ns();
    int64_t owed = (now - child_slice_start_ns) * (int64_t)child_throttle / 100;
    /* Sleep in whole milliseconds or more; shorter slices accumulate. */
    if (owed < NS_PER_MS)
        return;
    struct timespec ts = { .tv_sec = owed / NS_PER_S, .tv_nsec = owed % NS_PER_S };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    child_slice_start_ns = cpu_self_ns();
}
