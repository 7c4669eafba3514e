/* signals.c - SIGTERM/SIGINT become a flag polled by the loops; sleeps end early on it. */
#include "signals.h"
#include "err.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#define SLEEP_STEP_MS 100

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int
signals_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return ODS_E_IO;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return ODS_E_IO;
    return ODS_E_OK;
}

bool
signals_stop_requested(void)
{
    return stop_requested != 0;
}

bool
signals_sleep_ms(int64_t ms)
{
    while (ms > 0 && !stop_requested) {
        int64_t step = ms < SLEEP_STEP_MS ? ms : SLEEP_STEP_MS;
        struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(step * 1000000) };
        nanosleep(&ts, NULL);   /* a signal ends it early: the flag is checked next */
        ms -= step;
    }
    return !stop_requested;
}
