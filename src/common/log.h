/* log.h - leveled logging to stderr, one line per event, safe from any thread. */
#ifndef ODSCAN_LOG_H
#define ODSCAN_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* log_set_level sets the minimum level printed (default LOG_INFO). */
void log_set_level(enum log_level level);
/* log_parse_level maps "debug"/"info"/"warn"/"error" to a level; returns 0 or ODS_E_INVAL. */
int log_parse_level(const char *name, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* fatal logs and exits 1; only for start-up. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
