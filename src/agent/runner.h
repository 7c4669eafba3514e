/* runner.h - runs one scan in a forked child process under CPU control, so a
 * crashing or runaway scan fails its job and never takes the agent down. */
#ifndef ODSCAN_AGENT_RUNNER_H
#define ODSCAN_AGENT_RUNNER_H

#include "cpu.h"
#include "scans/scans.h"

#include <jansson.h>
#include <stdbool.h>

#define RUNNER_RESULT_MAX (16u * 1024 * 1024)  /* largest scan result accepted */

struct runner_task {
    scan_run_fn     run;
    struct scan_ctx ctx;
    unsigned        cpu_limit;      /* percent of one core; 100 = no limit */
    unsigned        cpu_throttle;   /* 0..1000, see cpu.h */
    bool            allow_cgroup;   /* may use a cgroup v2 for the limit */
    /* Called about every CPU_TICK_MS while the child runs (heartbeats); may be NULL. */
    void          (*tick)(void *arg);
    void           *tick_arg;
    /* Polled as often; true kills the child and ends the run. May be NULL. */
    bool          (*should_stop)(void);
};

struct runner_outcome {
    bool            completed;      /* true: result is set; false: reason says why */
    json_t         *result;         /* owned by the caller when completed */
    char            reason[SCAN_REASON_MAX];
    double          wall_s;         /* from the child's start to its reaping */
    double          cpu_s;          /* user + system time of the child (wait4) */
    enum cpu_method method;         /* how cpu_limit was enforced */
};

/* runner_run runs task->run in a child process and fills *out. A scan that fails,
 * crashes, exceeds RUNNER_RESULT_MAX or prints malformed JSON is a completed run
 * with out->completed false and a one-line reason. Returns 0, ODS_E_SHUTDOWN (the
 * child was killed because should_stop said so), ODS_E_IO (no pipe or fork) or
 * ODS_E_NOMEM. Caller frees out->result (json_decref). */
int runner_run(const struct runner_task *task, struct runner_outcome *out);

#endif
