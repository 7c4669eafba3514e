/* cpu.h - CPU control of a scan child process.
 *
 * cpu_limit (2..100, percent of one core; 100 = no limit) is enforced from outside the
 * child: by a cgroup v2 with cpu.max when the agent can create one, else by the agent
 * sampling the child's CPU clock every CPU_TICK_MS and duty-cycling it with
 * SIGSTOP/SIGCONT against a token bucket (refill limit% of wall time, small burst).
 * cpu_throttle (0..1000) is cooperative, inside the child: after each slice of scan
 * work (cpu_slice_done) the scan sleeps throttle/100 x the CPU time of that slice,
 * so its CPU share is at most 100/(100+throttle) of one core. */
#ifndef ODSCAN_AGENT_CPU_H
#define ODSCAN_AGENT_CPU_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define CPU_LIMIT_MIN     2
#define CPU_LIMIT_MAX     100
#define CPU_THROTTLE_MAX  1000
#define CPU_TICK_MS       10     /* sampling period of the SIGSTOP fallback */
#define CPU_BURST_MS      50     /* CPU time a child may bank while under its limit */
#define CPU_SCAN_NICE     10     /* scan children always run at this nice value */

enum cpu_method {
    CPU_METHOD_NONE = 0,  /* no limit (cpu_limit 100 or override_cpu) */
    CPU_METHOD_CGROUP,    /* cgroup v2 cpu.max */
    CPU_METHOD_SIGSTOP,   /* sampled duty cycle */
};

/* The parent's control over one running child. Zero-initialise, then cpu_ctl_attach. */
struct cpu_ctl {
    enum cpu_method method;
    unsigned  limit;          /* percent of one core */
    pid_t     pid;
    clockid_t clock;          /* the child's CPU clock */
    bool      clock_ok;
    bool      stopped;        /* SIGSTOP sent and not yet undone */
    int64_t   last_wall_ns;
    int64_t   last_cpu_ns;
    int64_t   tokens_ns;      /* CPU time the child may still use now */
    char      cgroup[PATH_MAX]; /* the cgroup made for the child, "" when none */
};

/* cpu_method_name returns "none", "cgroup" or "sigstop"; never NULL. */
const char *cpu_method_name(enum cpu_method m);

/* cpu_ctl_attach starts limiting child pid to limit percent of one core (values
 * outside 2..100 are clamped; 100 means no limit). Tries a cgroup v2 when
 * allow_cgroup, then the SIGSTOP duty cycle. Call it before the child starts its
 * work. Returns 0, or ODS_E_IO when the child's CPU clock cannot be read (the
 * control then has method NONE). */
int cpu_ctl_attach(struct cpu_ctl *c, pid_t pid, unsigned limit, bool allow_cgroup);
/* cpu_ctl_tick samples the child and stops or continues it; call it about every
 * CPU_TICK_MS while the child runs. A no-op for methods other than SIGSTOP. */
void cpu_ctl_tick(struct cpu_ctl *c);
/* cpu_ctl_resume continues a child the duty cycle stopped (before killing it, or
 * when it must finish writing). Safe to call any time. */
void cpu_ctl_resume(struct cpu_ctl *c);
/* cpu_ctl_release undoes the control after the child was reaped: removes its
 * cgroup. Safe to call on a zeroed or already released control. */
void cpu_ctl_release(struct cpu_ctl *c);

/* cpu_child_enter prepares the calling scan child: nice CPU_SCAN_NICE, die with the
 * parent, cooperative throttle (0..1000, clamped). Call once in the child. */
void cpu_child_enter(unsigned throttle);
/* cpu_slice_done is the scan's checkpoint between work units (a file parsed, a few
 * hundred packages): it sleeps the throttle's share of the CPU time used since the
 * previous checkpoint. Cheap when the throttle is 0. */
void cpu_slice_done(void);
/* cpu_self_ns returns the calling process's CPU time in nanoseconds. */
int64_t cpu_self_ns(void);

#endif
