/* cli.h - what odscanctl's command files share: the command table types, option
 * parsing, opening the store, error exits, aligned tables and JSON output. */
#ifndef ODSCAN_CLI_H
#define ODSCAN_CLI_H

#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_PROG        "odscanctl"
#define CLI_EXIT_OK     0
#define CLI_EXIT_FAIL   1     /* the command ran and failed */
#define CLI_EXIT_USAGE  2     /* the command line was wrong */
#define CLI_CONTINUE    (-1)  /* cli_parse: arguments fine, run the command */
#define CLI_TIME_MAX    32    /* an ISO 8601 time, incl. NUL */
#define CLI_MODULE_NAME_MAX 24 /* one module name, incl. NUL */
#define CLI_MODULES_MAX (CLI_MODULE_NAME_MAX * 5)   /* "VM,PC,SCA,SWCA,UDC" */

struct cli_call;

/* One command of a group: `odscanctl GROUP NAME USAGE`. run returns an exit status. */
struct cli_command {
    const char *name;
    int       (*run)(const struct cli_call *call, int argc, char **argv);
    const char *usage;      /* arguments after the command name */
    const char *help;       /* one line */
};

struct cli_group {
    const char               *name;
    const struct cli_command *commands;
    size_t                    ncommands;
    const char               *help;
};

/* What a command runs with: the database chosen by the global options and the table
 * rows that led to it (for usage messages). */
struct cli_call {
    const char               *state_dir;   /* --state-dir, or NULL */
    const char               *db_url;      /* --db, or NULL */
    const struct cli_group   *group;
    const struct cli_command *cmd;
};

/* One option a command accepts: options with a value set *value, flags set *flag. */
struct cli_opt {
    const char  *name;      /* "--role" */
    const char **value;
    bool        *flag;
};

extern const struct cli_group cmd_user_group;
extern const struct cli_group cmd_asset_group;
extern const struct cli_group cmd_job_group;
extern const struct cli_group cmd_audit_group;
extern const struct cli_group cmd_key_group;
extern const struct cli_group cmd_profile_group;
extern const struct cli_group cmd_kb_group;
extern const struct cli_group cmd_vuln_group;
extern const struct cli_group cmd_tag_group;

/* cli_tag_name_check accepts a tag name of 1..STORE_TAG_MAX-1 bytes without control
 * characters or commas (lists are comma-separated). Returns 0 or CLI_EXIT_USAGE. */
int cli_tag_name_check(const char *name);
/* cli_tag_ids resolves a comma-separated list of tag names ("" gives none) into at most
 * cap ids. Returns 0, or an exit status after printing why (unknown tag, too many). */
int cli_tag_ids(store_t *st, const char *list, int64_t *ids, size_t cap, size_t *n);

/* cli_fail prints "odscanctl: <message>" on stderr and returns CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_usage_error prints "odscanctl: <message>" on stderr and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_store_fail reports a failed store call about a subject formatted from fmt
 * ("user 'bob'"): "<subject> not found", "<subject> already exists", or
 * "<subject>: <error message>". Returns CLI_EXIT_FAIL. */
int cli_store_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_command_usage prints the usage and help lines of call's command to stdout. */
void cli_command_usage(const struct cli_call *call);

/* cli_match_opt tries argv[*i] against opts: "--name value", "--name=value" or a flag.
 * Returns 1 when matched (*i then points at the last argument used), 0 when argv[*i]
 * is no option of the table, or CLI_EXIT_USAGE after printing why (missing value,
 * value given to a flag, option repeated). */
int cli_match_opt(const struct cli_opt *opts, size_t nopts, int argc, char **argv, int *i);

/* cli_parse parses a command's arguments (argv[0] is the first one after the command
 * name): the options of opts in any order, and exactly npos positional arguments
 * stored in pos[]. "--help" prints the usage. Returns CLI_CONTINUE when the command
 * should run, else the exit status to return (0 after --help, 2 after a usage error). */
int cli_parse(const struct cli_call *call, int argc, char **argv, const struct cli_opt *opts,
    size_t nopts, const char **pos, size_t npos);

/* cli_store_open opens the database of the global options. Returns 0 with *st set
 * (close with store_close), or an exit status after printing why. */
int cli_store_open(const struct cli_call *call, store_t **st);

/* cli_parse_id parses a decimal id 1..INT64_MAX; what names it in messages ("asset").
 * Returns 0 or CLI_EXIT_USAGE after printing why. */
int cli_parse_id(const char *s, const char *what, int64_t *out);

/* cli_parse_modules parses "VM,PC,..." into module bits; NULL gives none.
 * Returns 0 or CLI_EXIT_USAGE after printing which name is unknown. */
int cli_parse_modules(const char *s, unsigned *mods);
/* cli_json_modules returns the modules as an array of names ("VM", "PC").
 * New reference; NULL on allocation failure. */
json_t *cli_json_modules(unsigned mods);

/* cli_time formats ms since the epoch as ISO 8601 into dst; 0 gives "-". */
void cli_time(int64_t ms, char dst[CLI_TIME_MAX]);
/* cli_json_time returns a JSON string of the ISO 8601 time, or JSON null for 0.
 * New reference; NULL on allocation failure. */
json_t *cli_json_time(int64_t ms);
/* cli_json_print prints a JSON value to stdout and takes ownership of it (NULL means
 * building it failed). Returns an exit status. */
int cli_json_print(json_t *value);

/* An aligned text table: headers and rows of strings, columns padded to the widest. */
struct cli_table;

/* cli_table_new starts a table with ncols columns named by headers (strings are
 * copied; NULL: no header row). Returns NULL when out of memory. Free with
 * cli_table_free. */
struct cli_table *cli_table_new(size_t ncols, const char *const *headers);
/* cli_table_add appends a row of ncols strings (copied). Returns 0 or ODS_E_NOMEM. */
int cli_table_add(struct cli_table *t, const char *const *cells);
/* cli_table_print writes the table to stdout; returns an exit status. */
int cli_table_print(const struct cli_table *t);
/* cli_table_free releases the table. NULL-safe. */
void cli_table_free(struct cli_table *t);

/* How one kind of record is shown: named columns for tables and one JSON object. */
#define CLI_COLS_MAX 32     /* `asset show` has the most rows */
#define CLI_CELL_MAX 320    /* longest cell, incl. NUL: a host name fits */
typedef char cli_cell[CLI_CELL_MAX];

struct cli_view {
    size_t              ncols;                  /* <= CLI_COLS_MAX */
    const char *const  *headers;
    void              (*cells)(const void *record, cli_cell *out);   /* ncols cells */
    json_t           *(*json)(const void *record);   /* new reference, NULL: no memory */
};

/* cli_cell_set formats one cell; a value too long for it ends in "...". */
void cli_cell_set(cli_cell cell, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_emit prints n records (each size bytes) as an aligned table, or as a JSON array
 * of objects when json is set. Returns an exit status. */
int cli_emit(const struct cli_view *v, const void *records, size_t size, size_t n, bool json);
/* cli_emit_one prints one record as "column value" lines, or as a JSON array holding
 * its object when json is set. Returns an exit status. */
int cli_emit_one(const struct cli_view *v, const void *record, bool json);

#endif
