/* agentsim.c - simulated odscan agents and a launch driver in one epoll loop, for the
 * dispatch benchmark. Agents enroll with an activation key and hold the long-poll
 * check-in open (docs/agent.md, plain HTTP); once all are waiting the driver launches
 * Inventory scans on random idle agents at a fixed rate through the QPS endpoint.
 * The launch's send time and the job's arrival at its agent are both read from one
 * CLOCK_MONOTONIC, so their difference is the launch-to-arrival latency. Each job is
 * then started, completed with a tiny result, and the agent checks in again.
 *
 * Output: one JSON object on stdout; with --latencies FILE one line per arrived job:
 * the launch's send time in ms since driving began, and its latency in microseconds
 * (in arrival order), which shows when a stall happened, not only how long. Everything is bounded by --deadline. */
#include "simconn.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SERVERS_MAX      16
#define SOURCES_MAX      250
#define CRED_MAX         256
#define DRIVER_CONNS     16      /* launch connections per server */
#define EVENTS_MAX       1024
#define SETTLE_MS        1000    /* quiet time after the last first check-in */
#define DRAIN_MS         5000    /* wait for jobs still on their way after the last launch */
#define RETRY_MS         200     /* back-off before re-sending after a broken connection */

enum agent_step {
    STEP_NEW = 0,       /* not yet started */
    STEP_ENROLL,        /* POST /agent/v1/enroll in flight */
    STEP_CHECKIN,       /* the long poll is in flight */
    STEP_START,         /* POST /jobs/<id>/start in flight */
    STEP_RESULT,        /* POST /jobs/<id>/result in flight */
    STEP_BACKOFF,       /* waiting to retry after a broken connection */
};

/* Tags tell the event loop which kind of object an epoll event belongs to. */
enum tag_kind { TAG_AGENT = 1, TAG_DRIVER };

struct agent {
    enum tag_kind    kind;
    struct simconn   conn;
    int              server;
    unsigned         index;
    enum agent_step  step;
    enum agent_step  retry_step;    /* what to resend after STEP_BACKOFF */
    int64_t          retry_at_ms;
    int64_t          asset_id;
    int64_t          job_id;
    int64_t          launched_ns;   /* send time of the launch not yet arrived, or 0 */
    char             auth[CRED_MAX];
};

struct driver {
    enum tag_kind    kind;
    struct simconn   conn;
    int              server;
    bool             busy;
    bool             warming;       /* the warm-up request is in flight */
    struct agent    *target;
};

struct server_addr {
    struct sockaddr_in  addr;
    char                host[64];
};

struct options {
    struct server_addr  servers[SERVERS_MAX];
    int                 nservers;
    unsigned            agents;
    unsigned            sources;
    unsigned            first_source;   /* 127.0.0.<first_source> is the first address */
    const char         *key;
    const char         *launch_auth;    /* base64 of user:password */
    double              rate;           /* launches per second */
    unsigned            duration_s;     /* driving time */
    unsigned            deadline_s;     /* the whole run */
    unsigned            enroll_parallel;
    const char         *latencies_path;
    int                 rss_pids[SERVERS_MAX];
    int                 nrss;
};

struct sim {
    struct options   opt;
    int              epfd;
    struct agent    *agents;
    struct driver   *drivers;
    unsigned         ndrivers;
    unsigned         next_enroll;
    unsigned         enrolling;
    unsigned         enrolled;
    unsigned         first_checkins;
    int64_t          last_first_checkin_ms;
    uint64_t         launches, launch_errors, launch_skipped, arrived, completed, failures;
    uint64_t         reconnects;
    int64_t          drive_start_ns;
    int64_t         *lat_us;           /* latency of each arrival, microseconds */
    int64_t         *sent_ms;          /* its launch's send time since drive_start_ns */
    size_t           nlat, lat_cap;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int64_t
mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
usage(void)
{
    fprintf(stderr,
        "usage: agentsim --server http://127.0.0.1:PORT[,URL...] --key ACTIVATION_KEY --agents N\n"
        "                --launch-auth BASE64(user:password) [--rate R] [--duration S]\n"
        "                [--sources K] [--first-source B] [--enroll-parallel P] [--deadline S]\n"
        "                [--rss-pid PID[,PID...]] [--latencies FILE]\n"
        "Agents are spread over the servers and over source addresses 127.0.0.B..B+K-1.\n");
}

/* parse_server turns "http://A.B.C.D:PORT" into an address. */
static int
parse_server(const char *url, struct server_addr *out)
{
    char host[64];
    uint64_t port;
    const char *p = url;

    if (strncmp(p, "http://", 7) != 0)
        return -1;
    p += 7;
    const char *colon = strchr(p, ':');
    if (colon == NULL || (size_t)(colon - p) >= sizeof(host))
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    size_t plen = strcspn(colon + 1, "/");
    char portstr[8];
    if (plen == 0 || plen >= sizeof(portstr))
        return -1;
    memcpy(portstr, colon + 1, plen);
    portstr[plen] = '\0';
    if (parse_u64(portstr, 65535, &port) != 0 || port == 0)
        return -1;
    memset(&out->addr, 0, sizeof(out->addr));
    out->addr.sin_family = AF_INET;
    out->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &out->addr.sin_addr) != 1)
        return -1;
    if (snprintf(out->host, sizeof(out->host), "%s:%s", host, portstr) >= (int)sizeof(out->host))
        return -1;
    return 0;
}

static int
parse_uint_opt(const char *name, const char *v, uint64_t max, unsigned *out)
{
    uint64_t x;

    if (v == NULL || parse_u64(v, max, &x) != 0) {
        fprintf(stderr, "agentsim: %s expects a number up to %" PRIu64 "\n", name, max);
        return -1;
    }
    *out = (unsigned)x;
    return 0;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    o->sources = 8;
    o->first_source = 2;
    o->rate = 100;
    o->duration_s = 10;
    o->deadline_s = 300;
    o->enroll_parallel = 64;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned u;
        if (strcmp(a, "--server") == 0 && v != NULL) {
            char list[1024], *save = NULL;
            if (str_copy(list, sizeof(list), v) != 0)
                return -1;
            for (char *s = strtok_r(list, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
                if (o->nservers >= SERVERS_MAX || parse_server(s, &o->servers[o->nservers]) != 0) {
                    fprintf(stderr, "agentsim: bad or too many --server URLs: %s\n", s);
                    return -1;
                }
                o->nservers++;
            }
        } else if (strcmp(a, "--rss-pid") == 0 && v != NULL) {
            char list[256], *save = NULL;
            if (str_copy(list, sizeof(list), v) != 0)
                return -1;
            for (char *s = strtok_r(list, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
                if (o->nrss >= SERVERS_MAX || parse_uint_opt(a, s, 4194304, &u) != 0)
                    return -1;
                o->rss_pids[o->nrss++] = (int)u;
            }
        } else if (strcmp(a, "--key") == 0 && v != NULL) {
            o->key = v;
        } else if (strcmp(a, "--launch-auth") == 0 && v != NULL) {
            o->launch_auth = v;
        } else if (strcmp(a, "--latencies") == 0 && v != NULL) {
            o->latencies_path = v;
        } else if (strcmp(a, "--agents") == 0) {
            if (parse_uint_opt(a, v, 1000000, &o->agents) != 0)
                return -1;
        } else if (strcmp(a, "--sources") == 0) {
            if (parse_uint_opt(a, v, SOURCES_MAX, &o->sources) != 0 || o->sources == 0)
                return -1;
        } else if (strcmp(a, "--first-source") == 0) {
            if (parse_uint_opt(a, v, 254, &o->first_source) != 0 || o->first_source == 0)
                return -1;
        } else if (strcmp(a, "--rate") == 0) {
            if (parse_uint_opt(a, v, 100000, &u) != 0 || u == 0)
                return -1;
            o->rate = u;
        } else if (strcmp(a, "--duration") == 0) {
            if (parse_uint_opt(a, v, 3600, &o->duration_s) != 0)
                return -1;
        } else if (strcmp(a, "--deadline") == 0) {
            if (parse_uint_opt(a, v, 86400, &o->deadline_s) != 0 || o->deadline_s == 0)
                return -1;
        } else if (strcmp(a, "--enroll-parallel") == 0) {
            if (parse_uint_opt(a, v, 100000, &o->enroll_parallel) != 0 || o->enroll_parallel == 0)
                return -1;
        } else {
            usage();
            return -1;
        }
        i++;
    }
    if (o->nservers == 0 || o->key == NULL || o->launch_auth == NULL || o->agents == 0) {
        usage();
        return -1;
    }
    if (o->first_source + o->sources > 255) {
        fprintf(stderr, "agentsim: --first-source + --sources must stay within 127.0.0.0/24\n");
        return -1;
    }
    return 0;
}

/* raise_fd_limit sets the soft open-files limit to the hard one; returns the limit. */
static rlim_t
raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

static long
rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;

    if (snprintf(path, sizeof(path), "/proc/%d/status", pid) >= (int)sizeof(path))
        return -1;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static void
record_latency(struct sim *s, int64_t sent_ns, int64_t now_ns)
{
    if (s->nlat == s->lat_cap) {
        size_t cap = s->lat_cap ? s->lat_cap * 2 : 4096;
        int64_t *p = realloc(s->lat_us, cap * sizeof(*p));
        if (p == NULL)
            return;    /* a lost sample; counted in arrived anyway */
        s->lat_us = p;
        int64_t *q = realloc(s->sent_ms, cap * sizeof(*q));
        if (q == NULL)
            return;
        s->sent_ms = q;
        s->lat_cap = cap;
    }
    s->sent_ms[s->nlat] = (sent_ns - s->drive_start_ns) / 1000000;
    s->lat_us[s->nlat++] = (now_ns - sent_ns) / 1000;
}

/* --- agents ----------------------------------------------------------------------- */

static void agent_send(struct sim *s, struct agent *a, enum agent_step step);

static void
agent_backoff(struct sim *s, struct agent *a, enum agent_step step)
{
    s->reconnects++;
    simconn_close(&a->conn);
    a->step = STEP_BACKOFF;
    a->retry_step = step;
    a->retry_at_ms = mono_ms() + RETRY_MS;
}

static void
agent_send(struct sim *s, struct agent *a, enum agent_step step)
{
    char path[128], body[512], hdr[CRED_MAX + 32];
    const char *h = NULL, *b = NULL;
    const struct server_addr *srv = &s->opt.servers[a->server];
    int n = 0;

    switch (step) {
    case STEP_ENROLL:
        n = snprintf(body, sizeof(body),
            "{\"activation_key\":\"%s\",\"hostname\":\"sim-%u\",\"fqdn\":\"sim-%u.bench.invalid\","
            "\"os_family\":\"linux\",\"os_name\":\"Debian GNU/Linux\",\"os_version\":\"12\","
            "\"arch\":\"x86_64\",\"machine_id\":\"%032x\",\"agent_version\":\"0.1.0\"}",
            s->opt.key, a->index, a->index, a->index + 1);
        snprintf(path, sizeof(path), "/agent/v1/enroll");
        break;
    case STEP_CHECKIN:
        n = snprintf(body, sizeof(body), "{\"agent_version\":\"0.1.0\",\"running\":[]}");
        snprintf(path, sizeof(path), "/agent/v1/checkin");
        break;
    case STEP_START:
        n = snprintf(body, sizeof(body), "{\"cpu_limit\":100,\"cpu_throttle\":0,\"unthrottled\":false}");
        snprintf(path, sizeof(path), "/agent/v1/jobs/%" PRId64 "/start", a->job_id);
        break;
    case STEP_RESULT:
        n = snprintf(body, sizeof(body), "{\"status\":\"COMPLETED\",\"result\":{\"bench\":true}}");
        snprintf(path, sizeof(path), "/agent/v1/jobs/%" PRId64 "/result", a->job_id);
        break;
    default:
        return;
    }
    if (n < 0 || (size_t)n >= sizeof(body)) {
        s->failures++;
        return;
    }
    b = body;
    if (step != STEP_ENROLL) {
        if (snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", a->auth) >= (int)sizeof(hdr))
            return;
        h = hdr;
    }
    a->step = step;
    if (simconn_request(&a->conn, s->epfd, a, "POST", path, srv->host, h, b) != 0)
        agent_backoff(s, a, step);
}

/* agent_enrolled takes the identity from the enrollment answer. */
static int
agent_enrolled(struct agent *a, const char *body)
{
    json_error_t jerr;
    json_t *doc = json_loads(body, 0, &jerr);
    int rc = -1;

    if (doc == NULL)
        return -1;
    json_t *id = json_object_get(doc, "asset_id");
    const char *uuid = json_string_value(json_object_get(doc, "agent_uuid"));
    const char *secret = json_string_value(json_object_get(doc, "agent_secret"));
    if (json_is_integer(id) && uuid != NULL && secret != NULL) {
        a->asset_id = json_integer_value(id);
        int n = snprintf(a->auth, sizeof(a->auth), "%s:%s", uuid, secret);
        rc = n > 0 && (size_t)n < sizeof(a->auth) ? 0 : -1;
    }
    json_decref(doc);
    return rc;
}

/* agent_jobs returns the id of the first job handed out in a check-in answer, 0 when
 * none, -1 when the answer is not understood. */
static int64_t
agent_jobs(const char *body)
{
    json_error_t jerr;
    json_t *doc = json_loads(body, 0, &jerr);
    int64_t id = -1;

    if (doc == NULL)
        return -1;
    json_t *jobs = json_object_get(doc, "jobs");
    if (json_is_array(jobs)) {
        json_t *first = json_array_get(jobs, 0);
        id = first == NULL ? 0 : json_integer_value(json_object_get(first, "id"));
    }
    json_decref(doc);
    return id;
}

static void
agent_answered(struct sim *s, struct agent *a)
{
    int status = a->conn.status;
    const char *body = a->conn.body;

    switch (a->step) {
    case STEP_ENROLL:
        s->enrolling--;
        if (status != 200 || agent_enrolled(a, body) != 0) {
            fprintf(stderr, "agentsim: enrollment of agent %u: HTTP %d %.200s\n", a->index, status, body);
            s->failures++;
            a->step = STEP_NEW;    /* given up: counted as a failure */
            simconn_close(&a->conn);
            return;
        }
        s->enrolled++;
        s->first_checkins++;
        s->last_first_checkin_ms = mono_ms();
        agent_send(s, a, STEP_CHECKIN);
        return;
    case STEP_CHECKIN: {
        int64_t job = status == 200 ? agent_jobs(body) : -1;
        if (job < 0) {
            s->failures++;
            agent_backoff(s, a, STEP_CHECKIN);
            return;
        }
        if (job == 0) {
            agent_send(s, a, STEP_CHECKIN);    /* hold time over: poll again */
            return;
        }
        if (a->launched_ns != 0) {
            record_latency(s, a->launched_ns, mono_ns());
            a->launched_ns = 0;
            s->arrived++;
        }
        a->job_id = job;
        agent_send(s, a, STEP_START);
        return;
    }
    case STEP_START:
        if (status != 200)
            s->failures++;
        agent_send(s, a, status == 200 ? STEP_RESULT : STEP_CHECKIN);
        return;
    case STEP_RESULT:
        if (status != 200)
            s->failures++;
        else
            s->completed++;
        agent_send(s, a, STEP_CHECKIN);
        return;
    default:
        return;
    }
}

static void
agent_event(struct sim *s, struct agent *a, unsigned events)
{
    enum simconn_event e = simconn_io(&a->conn, s->epfd, events);

    if (e == SIMCONN_DONE) {
        agent_answered(s, a);
    } else if (e == SIMCONN_FAILED) {
        if (a->step == STEP_ENROLL) {
            s->enrolling--;
            s->failures++;
            a->step = STEP_NEW;
            a->retry_step = STEP_ENROLL;
            return;
        }
        /* An idle keep-alive closed by the server needs nothing; a request in
         * flight is sent again on a new connection. */
        if (a->step == STEP_CHECKIN || a->step == STEP_START || a->step == STEP_RESULT)
            agent_backoff(s, a, a->step);
    }
}

/* --- the launch driver ------------------------------------------------------------ */

static struct agent *
pick_idle_agent(struct sim *s)
{
    for (int tries = 0; tries < 64; tries++) {
        struct agent *a = &s->agents[(unsigned)random() % s->opt.agents];
        if (a->step == STEP_CHECKIN && a->launched_ns == 0 && a->asset_id != 0)
            return a;
    }
    return NULL;
}

static void
launch_one(struct sim *s)
{
    struct agent *a = pick_idle_agent(s);
    char path[160], hdr[CRED_MAX + 64];

    if (a == NULL) {
        s->launch_skipped++;
        return;
    }
    /* Launches go through the servers in turn, whichever one holds the agent: with
     * several nodes on one database most jobs reach their agent through another
     * node's wake-up (LISTEN/NOTIFY), as with a load balancer in front. */
    struct driver *d = NULL;
    int via = (int)(s->launches % (uint64_t)s->opt.nservers);
    for (unsigned i = 0; i < s->ndrivers; i++)
        if (!s->drivers[i].busy && s->drivers[i].server == via) {
            d = &s->drivers[i];
            break;
        }
    if (d == NULL) {
        s->launch_skipped++;    /* every launch connection is busy: the server is behind */
        return;
    }
    if (snprintf(path, sizeof(path), "/qps/rest/1.0/ods/ca/agentasset/%" PRId64
            "?scan=Inventory_Scan&OverrideConfigCpu=false", a->asset_id) >= (int)sizeof(path) ||
        snprintf(hdr, sizeof(hdr), "Authorization: Basic %s\r\n", s->opt.launch_auth) >= (int)sizeof(hdr))
        return;
    d->busy = true;
    d->target = a;
    a->launched_ns = mono_ns();
    s->launches++;
    if (simconn_request(&d->conn, s->epfd, d, "POST", path, s->opt.servers[d->server].host, hdr,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<ServiceRequest></ServiceRequest>") != 0) {
        d->busy = false;
        a->launched_ns = 0;
        s->launch_errors++;
    }
}

static void
driver_event(struct sim *s, struct driver *d, unsigned events)
{
    enum simconn_event e = simconn_io(&d->conn, s->epfd, events);

    if (e == SIMCONN_AGAIN || !d->busy)
        return;
    if (d->warming) {
        d->warming = false;
        d->busy = false;
        return;
    }
    if (e == SIMCONN_FAILED || d->conn.status != 200) {
        s->launch_errors++;
        if (e == SIMCONN_DONE)
            fprintf(stderr, "agentsim: launch: HTTP %d %.200s\n", d->conn.status, d->conn.body);
        if (d->target != NULL)
            d->target->launched_ns = 0;    /* not launched: nothing to wait for */
    }
    d->busy = false;
    d->target = NULL;
}

/* warm_drivers opens every launch connection and sends one authenticated request
 * that writes nothing, so the server's credential cache is warm and no connect or
 * password hash (argon2id on a cold cache) lands in the measured launches.
 * Returns once all answered or after timeout_ms. */
static void poll_once(struct sim *s, int timeout_ms);

static void
warm_drivers(struct sim *s, int64_t timeout_ms)
{
    char hdr[CRED_MAX + 64];
    int64_t end = mono_ms() + timeout_ms;

    if (snprintf(hdr, sizeof(hdr), "Authorization: Basic %s\r\n", s->opt.launch_auth) >= (int)sizeof(hdr))
        return;
    for (unsigned i = 0; i < s->ndrivers; i++) {
        struct driver *d = &s->drivers[i];
        d->busy = d->warming = true;
        if (simconn_request(&d->conn, s->epfd, d, "GET", "/api/v1/jobs/0",
                s->opt.servers[d->server].host, hdr, NULL) != 0)
            d->busy = d->warming = false;
    }
    for (;;) {
        unsigned warming = 0;
        for (unsigned i = 0; i < s->ndrivers; i++)
            warming += s->drivers[i].warming;
        if (warming == 0 || interrupted || mono_ms() >= end)
            break;
        poll_once(s, 20);
    }
    for (unsigned i = 0; i < s->ndrivers; i++)
        s->drivers[i].busy = s->drivers[i].warming = false;
}

/* --- the loop --------------------------------------------------------------------- */

static void
poll_once(struct sim *s, int timeout_ms)
{
    struct epoll_event ev[EVENTS_MAX];
    int n = epoll_wait(s->epfd, ev, EVENTS_MAX, timeout_ms);

    for (int i = 0; i < n; i++) {
        enum tag_kind *kind = ev[i].data.ptr;
        if (*kind == TAG_AGENT)
            agent_event(s, (struct agent *)(void *)kind, ev[i].events);
        else
            driver_event(s, (struct driver *)(void *)kind, ev[i].events);
    }
}

/* service_timers starts enrollments up to the parallel limit and resends what was
 * waiting out a back-off. */
static void
service_timers(struct sim *s)
{
    int64_t now = mono_ms();

    while (s->enrolling < s->opt.enroll_parallel && s->next_enroll < s->opt.agents) {
        struct agent *a = &s->agents[s->next_enroll++];
        s->enrolling++;
        agent_send(s, a, STEP_ENROLL);
        if (a->step == STEP_BACKOFF) {    /* could not even open a socket */
            s->enrolling--;
            s->failures++;
            a->step = STEP_NEW;
        }
    }
    static int64_t next_scan;
    if (now < next_scan)
        return;
    next_scan = now + 50;
    for (unsigned i = 0; i < s->opt.agents; i++) {
        struct agent *a = &s->agents[i];
        if (a->step == STEP_BACKOFF && now >= a->retry_at_ms)
            agent_send(s, a, a->retry_step);
    }
}

static int
sim_setup(struct sim *s)
{
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0)
        return -1;
    s->agents = calloc(s->opt.agents, sizeof(*s->agents));
    s->ndrivers = DRIVER_CONNS * (unsigned)s->opt.nservers;
    s->drivers = calloc(s->ndrivers, sizeof(*s->drivers));
    if (s->agents == NULL || s->drivers == NULL)
        return -1;
    for (unsigned i = 0; i < s->opt.agents; i++) {
        struct agent *a = &s->agents[i];
        struct sockaddr_in src = { .sin_family = AF_INET };
        src.sin_addr.s_addr = htonl((127u << 24) | (s->opt.first_source + i % s->opt.sources));
        a->kind = TAG_AGENT;
        a->index = i;
        a->server = (int)(i % (unsigned)s->opt.nservers);
        simconn_init(&a->conn, &src, &s->opt.servers[a->server].addr);
    }
    for (unsigned i = 0; i < s->ndrivers; i++) {
        struct driver *d = &s->drivers[i];
        struct sockaddr_in src = { .sin_family = AF_INET };
        src.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        d->kind = TAG_DRIVER;
        d->server = (int)(i % (unsigned)s->opt.nservers);
        simconn_init(&d->conn, &src, &s->opt.servers[d->server].addr);
    }
    return 0;
}

static int
cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static double
percentile_ms(const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return -1;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0;
}

static void
report(struct sim *s, long rss_ready, double setup_s, const char *phase)
{
    if (s->opt.latencies_path != NULL) {
        FILE *f = fopen(s->opt.latencies_path, "w");
        if (f != NULL) {
            for (size_t i = 0; i < s->nlat; i++)
                fprintf(f, "%" PRId64 " %" PRId64 "\n", s->sent_ms[i], s->lat_us[i]);
            fclose(f);
        }
    }
    qsort(s->lat_us, s->nlat, sizeof(*s->lat_us), cmp_i64);
    printf("{\"agents\":%u,\"enrolled\":%u,\"phase\":\"%s\",\"setup_s\":%.1f,\"rss_ready_kib\":%ld,"
        "\"launches\":%" PRIu64 ",\"launch_errors\":%" PRIu64 ",\"launch_skipped\":%" PRIu64 ","
        "\"arrived\":%" PRIu64 ",\"completed\":%" PRIu64 ",\"failures\":%" PRIu64 ",\"reconnects\":%" PRIu64 ","
        "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
        s->opt.agents, s->enrolled, phase, setup_s, rss_ready, s->launches, s->launch_errors,
        s->launch_skipped, s->arrived, s->completed, s->failures, s->reconnects,
        percentile_ms(s->lat_us, s->nlat, 50), percentile_ms(s->lat_us, s->nlat, 99),
        s->nlat ? (double)s->lat_us[s->nlat - 1] / 1000.0 : -1.0);
    fflush(stdout);
}

static void
sim_free(struct sim *s)
{
    if (s->agents != NULL)
        for (unsigned i = 0; i < s->opt.agents; i++)
            simconn_close(&s->agents[i].conn);
    if (s->drivers != NULL)
        for (unsigned i = 0; i < s->ndrivers; i++)
            simconn_close(&s->drivers[i].conn);
    free(s->agents);
    free(s->drivers);
    free(s->lat_us);
    free(s->sent_ms);
    if (s->epfd >= 0)
        close(s->epfd);
}

int
main(int argc, char **argv)
{
    static struct sim s;
    struct sigaction sa;
    long rss_ready = 0;
    const char *phase = "setup";

    s.epfd = -1;
    if (parse_options(argc, argv, &s.opt) != 0)
        return 2;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srandom((unsigned)getpid());

    rlim_t lim = raise_fd_limit();
    if (lim < (rlim_t)s.opt.agents + DRIVER_CONNS * SERVERS_MAX + 16) {
        fprintf(stderr, "agentsim: %u agents need more open files than the limit %lu; "
            "run several agentsim processes\n", s.opt.agents, (unsigned long)lim);
        return 2;
    }
    if (sim_setup(&s) != 0) {
        fprintf(stderr, "agentsim: setup: %s\n", strerror(errno));
        sim_free(&s);
        return 1;
    }

    int64_t start = mono_ms();
    int64_t deadline = start + (int64_t)s.opt.deadline_s * 1000;
    /* Set-up: every agent enrolled and its check-in sent, then a quiet second. */
    while (!interrupted && mono_ms() < deadline) {
        service_timers(&s);
        if (s.next_enroll == s.opt.agents && s.enrolling == 0 &&
            mono_ms() - s.last_first_checkin_ms >= SETTLE_MS)
            break;
        poll_once(&s, 20);
    }
    double setup_s = (double)(mono_ms() - start) / 1000.0;
    for (int i = 0; i < s.opt.nrss; i++) {
        long k = rss_kib(s.opt.rss_pids[i]);
        if (k > 0)
            rss_ready += k;
    }
    fprintf(stderr, "agentsim: %u of %u agents enrolled and waiting after %.1f s\n", s.enrolled,
        s.opt.agents, setup_s);

    /* Drive: launches at a fixed rate, then let the last jobs arrive. */
    if (!interrupted && mono_ms() < deadline && s.enrolled > 0) {
        phase = "drive";
        warm_drivers(&s, 10000);
        int64_t t0 = mono_ns();
        s.drive_start_ns = t0;
        int64_t period = (int64_t)(1e9 / s.opt.rate);
        int64_t end = t0 + (int64_t)s.opt.duration_s * 1000000000;
        int64_t next = t0;
        while (!interrupted && mono_ms() < deadline && next < end) {
            int64_t now = mono_ns();
            while (next <= now && next < end) {
                launch_one(&s);
                next += period;
            }
            service_timers(&s);
            int64_t wait_ms = (next - mono_ns()) / 1000000;
            poll_once(&s, wait_ms < 0 ? 0 : wait_ms > 20 ? 20 : (int)wait_ms);
        }
        int64_t drain_end = mono_ms() + DRAIN_MS;
        while (!interrupted && mono_ms() < deadline && mono_ms() < drain_end &&
            s.arrived + s.launch_errors < s.launches) {
            service_timers(&s);
            poll_once(&s, 20);
        }
        /* let the last jobs finish their start/result round trips */
        int64_t settle_end = mono_ms() + 500;
        while (!interrupted && mono_ms() < settle_end) {
            service_timers(&s);
            poll_once(&s, 20);
        }
        phase = interrupted ? "interrupted" : mono_ms() >= deadline ? "deadline" : "done";
    }
    report(&s, rss_ready, setup_s, phase);
    sim_free(&s);
    return 0;
}
