/* main.c - odscand: parse options, start the server, serve until SIGTERM/SIGINT. */
#include "config.h"
#include "log.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int
main(int argc, char **argv)
{
    static struct server srv;
    char err[1024];
    struct sigaction sa;

    config_defaults(&srv.cfg);
    int rc = config_load_args(&srv.cfg, argc, argv, err, sizeof(err));
    if (rc == 1)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "odscand: %s\n", err);
        return 2;
    }
    log_set_level(srv.cfg.log_level);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (server_start(&srv, err, sizeof(err)) != 0) {
        fprintf(stderr, "odscand: %s\n", err);
        return 1;
    }
    server_run(&srv, &stop_requested);
    log_info("shutting down");
    server_stop(&srv);
    log_info("stopped");
    return 0;
}
