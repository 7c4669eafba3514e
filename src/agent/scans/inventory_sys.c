/* inventory_sys.c - the operating system, the host, local users and running
 * systemd services, from files under the root prefix and a few syscalls. */
#include "inventory.h"
#include "err.h"
#include "inv.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define OS_VALUE_MAX   512
#define HOSTNAME_MAX   256
#define SERVICES_MAX   4096   /* services listed at most */

/* ---- os ------------------------------------------------------------------------- */

static const struct {
    const char *key;     /* os-release variable */
    const char *member;  /* inventory member */
} os_release_fields[] = {
    { "NAME", "name" }, { "VERSION_ID", "version" }, { "ID", "id" },
    { "PRETTY_NAME", "pretty_name" }, { "VERSION_CODENAME", "codename" },
};

/* os_release_unquote undoes the shell-style quoting os-release(5) allows, in place. */
static void
os_release_unquote(char *v)
{
    char quote = v[0];
    char *w = v;

    if (quote != '"' && quote != '\'') {
        v[strcspn(v, " \t#")] = '\0';
        return;
    }
    for (const char *r = v + 1; *r != '\0' && *r != quote; r++) {
        if (quote == '"' && *r == '\\' && r[1] != '\0')
            r++;
        *w++ = *r;
    }
    *w = '\0';
}

static int
os_release_read(const char *root, json_t *os)
{
    static const char *const paths[] = { "/etc/os-release", "/usr/lib/os-release" };
    FILE *fp = NULL;
    char *line = NULL;
    size_t cap = 0;
    int rc = ODS_E_OK;

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && fp == NULL; i++)
        fp = inv_fopen(root, paths[i]);
    if (fp == NULL)
        return ODS_E_OK;   /* members stay null */
    while (rc == ODS_E_OK && inv_getline(fp, &line, &cap)) {
        char *eq = strchr(line, '=');
        if (eq == NULL || line[0] == '#')
            continue;
        *eq = '\0';
        for (size_t i = 0; i < sizeof(os_release_fields) / sizeof(os_release_fields[0]); i++) {
            if (strcmp(line, os_release_fields[i].key) != 0)
                continue;
            os_release_unquote(eq + 1);
            rc = inv_set_str(os, os_release_fields[i].member, eq + 1);
        }
    }
    free(line);
    fclose(fp);
    return rc;
}

int
inventory_os(const char *root, json_t *os)
{
    struct utsname u;
    int rc;

    for (size_t i = 0; i < sizeof(os_release_fields) / sizeof(os_release_fields[0]); i++)
        if ((rc = inv_set_str(os, os_release_fields[i].member, NULL)) != ODS_E_OK)
            return rc;
    if ((rc = os_release_read(root, os)) != ODS_E_OK)
        return rc;
    bool ok = uname(&u) == 0;
    if ((rc = inv_set_str(os, "kernel", ok ? u.release : NULL)) != ODS_E_OK
        || (rc = inv_set_str(os, "kernel_version", ok ? u.version : NULL)) != ODS_E_OK)
        return rc;
    return inv_set_str(os, "arch", ok ? u.machine : NULL);
}

/* ---- host ----------------------------------------------------------------------- */

/* key_value finds "key<sep>value" lines (cpuinfo "model name\t: X", meminfo
 * "MemTotal:  123 kB", stat "btime 123") and copies the first value found. */
static int
key_value(const char *root, const char *rel, const char *const *keys, size_t nkeys,
    char *dst, size_t n)
{
    FILE *fp = inv_fopen(root, rel);
    char *line = NULL;
    size_t cap = 0;
    int rc = ODS_E_NOTFOUND;

    if (fp == NULL)
        return ODS_E_NOTFOUND;
    while (rc == ODS_E_NOTFOUND && inv_getline(fp, &line, &cap)) {
        for (size_t k = 0; k < nkeys; k++) {
            size_t klen = strlen(keys[k]);
            if (strncmp(line, keys[k], klen) != 0)
                continue;
            /* "key: value" or "key value"; never "key other-word" ("cpu family"). */
            const char *v = line + klen + strspn(line + klen, " \t");
            if (v == line + klen && *v != ':')
                continue;
            if (*v == ':')
                v += 1 + strspn(v + 1, " \t");
            else if (*v < '0' || *v > '9')
                continue;
            str_copy(dst, n, v);
            rc = ODS_E_OK;
            break;
        }
    }
    free(line);
    fclose(fp);
    return rc;
}

/* leading_u64 parses the decimal digits at the start of s ("123 kB", "4567.89"). */
static int
leading_u64(const char *s, uint64_t *out)
{
    char digits[24];
    size_t len = strspn(s, "0123456789");

    if (len == 0 || len >= sizeof(digits))
        return ODS_E_PARSE;
    memcpy(digits, s, len);
    digits[len] = '\0';
    return parse_u64(digits, UINT64_MAX, out);
}

static int
host_names(json_t *host)
{
    char name[HOSTNAME_MAX] = "";
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME };
    struct addrinfo *res = NULL;
    const char *fqdn;
    int rc;

    if (gethostname(name, sizeof(name) - 1) != 0)
        name[0] = '\0';
    fqdn = name[0] != '\0' ? name : NULL;
    if (fqdn != NULL && getaddrinfo(name, NULL, &hints, &res) == 0 && res != NULL
        && res->ai_canonname != NULL && res->ai_canonname[0] != '\0')
        fqdn = res->ai_canonname;
    if ((rc = inv_set_str(host, "hostname", name[0] != '\0' ? name : NULL)) == ODS_E_OK)
        rc = inv_set_str(host, "fqdn", fqdn);
    if (res != NULL)
        freeaddrinfo(res);
    return rc;
}

static int
host_machine(const char *root, json_t *host)
{
    static const char *const id_files[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };
    static const char *const model_keys[] = { "model name", "cpu model", "Processor", "cpu" };
    static const char *const mem_keys[] = { "MemTotal" };
    char value[INV_SMALL_MAX];
    const char *machine_id = NULL;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t kb;
    int rc;

    for (size_t i = 0; i < sizeof(id_files) / sizeof(id_files[0]) && machine_id == NULL; i++)
        if (inv_read_small(root, id_files[i], value, sizeof(value)) == ODS_E_OK && value[0] != '\0')
            machine_id = value;
    if ((rc = inv_set_str(host, "machine_id", machine_id)) != ODS_E_OK)
        return rc;
    rc = key_value(root, "/proc/cpuinfo", model_keys, sizeof(model_keys) / sizeof(model_keys[0]),
        value, sizeof(value));
    if ((rc = inv_set_str(host, "cpu_model", rc == ODS_E_OK ? value : NULL)) != ODS_E_OK)
        return rc;
    if ((rc = inv_set_new(host, "cpu_count", ncpu > 0 ? json_integer(ncpu) : json_null())) != ODS_E_OK)
        return rc;
    bool mem = key_value(root, "/proc/meminfo", mem_keys, 1, value, sizeof(value)) == ODS_E_OK
        && leading_u64(value, &kb) == ODS_E_OK && kb < UINT64_MAX / 1024;
    return inv_set_new(host, "memory_bytes", mem ? json_integer((json_int_t)(kb * 1024)) : json_null());
}

static int
host_boot(const char *root, json_t *host)
{
    static const char *const btime_keys[] = { "btime" };
    char value[INV_SMALL_MAX], when[32];
    uint64_t secs;
    int rc;

    bool up = inv_read_small(root, "/proc/uptime", value, sizeof(value)) == ODS_E_OK
        && leading_u64(value, &secs) == ODS_E_OK;
    if ((rc = inv_set_new(host, "uptime_s", up ? json_integer((json_int_t)secs) : json_null())) != ODS_E_OK)
        return rc;
    bool boot = key_value(root, "/proc/stat", btime_keys, 1, value, sizeof(value)) == ODS_E_OK
        && leading_u64(value, &secs) == ODS_E_OK && secs < INT64_MAX / 1000;
    if (boot)
        fmt_iso8601(when, sizeof(when), (int64_t)secs * 1000);
    return inv_set_str(host, "boot_time", boot ? when : NULL);
}

int
inventory_host(const char *root, json_t *host)
{
    int rc;

    if ((rc = host_names(host)) != ODS_E_OK || (rc = host_machine(root, host)) != ODS_E_OK)
        return rc;
    return host_boot(root, host);
}

/* ---- users ---------------------------------------------------------------------- */

/* split_fields cuts line at ':' into at most max fields; returns how many. */
static size_t
split_fields(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;

    while (n < max) {
        fields[n++] = p;
        p = strchr(p, ':');
        if (p == NULL)
            break;
        *p++ = '\0';
    }
    return n;
}

static int
user_add(char **f, json_t *users)
{
    uint64_t uid, gid;
    json_t *o;

    if (f[0][0] == '\0' || f[0][0] == '+' || f[0][0] == '-'
        || parse_u64(f[2], UINT32_MAX, &uid) != ODS_E_OK
        || parse_u64(f[3], UINT32_MAX, &gid) != ODS_E_OK)
        return ODS_E_OK;   /* NIS markers and broken lines are not local users */
    o = json_object();
    if (o == NULL)
        return ODS_E_NOMEM;
    if (inv_set_str(o, "name", f[0]) != 0 || inv_set_int(o, "uid", (int64_t)uid) != 0
        || inv_set_int(o, "gid", (int64_t)gid) != 0 || inv_set_str(o, "home", f[5]) != 0
        || inv_set_str(o, "shell", f[6]) != 0) {
        json_decref(o);
        return ODS_E_NOMEM;
    }
    return inv_append_new(users, o);
}

int
inventory_users(const char *root, json_t *users)
{
    FILE *fp = inv_fopen(root, "/etc/passwd");
    char *line = NULL;
    size_t cap = 0;
    int rc = ODS_E_OK;

    if (fp == NULL)
        return errno == ENOENT ? ODS_E_OK : ODS_E_IO;
    while (rc == ODS_E_OK && inv_getline(fp, &line, &cap)) {
        char *f[7];
        if (line[0] == '#' || split_fields(line, f, 7) != 7)
            continue;
        rc = user_add(f, users);
    }
    if (rc == ODS_E_OK && ferror(fp))
        rc = ODS_E_IO;
    free(line);
    fclose(fp);
    return rc;
}

/* ---- services ------------------------------------------------------------------- */

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* service_running tells whether DIR/NAME/cgroup.procs lists a process. */
static bool
service_running(int dirfd_, const char *name)
{
    char rel[512], c;
    int len = snprintf(rel, sizeof(rel), "%s/cgroup.procs", name);

    if (len < 0 || (size_t)len >= sizeof(rel))
        return false;
    int fd = openat(dirfd_, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool running = read(fd, &c, 1) == 1;
    close(fd);
    return running;
}

static DIR *
open_system_slice(const char *root)
{
    static const char *const slices[] = {
        "/sys/fs/cgroup/system.slice", "/sys/fs/cgroup/unified/system.slice",
        "/sys/fs/cgroup/systemd/system.slice",
    };
    char path[4096];
    DIR *d = NULL;

    for (size_t i = 0; i < sizeof(slices) / sizeof(slices[0]) && d == NULL; i++)
        if (inv_path(root, slices[i], path, sizeof(path)) == ODS_E_OK)
            d = opendir(path);
    return d;
}

int
inventory_services(const char *root, json_t *services, bool *systemd)
{
    char path[4096];
    struct stat st;
    char **names = NULL;
    size_t n = 0;
    DIR *d = NULL;
    struct dirent *de;
    int rc = ODS_E_OK;

    *systemd = inv_path(root, "/run/systemd/system", path, sizeof(path)) == ODS_E_OK
        && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    if (!*systemd || (d = open_system_slice(root)) == NULL)
        return ODS_E_OK;
    names = calloc(SERVICES_MAX, sizeof(*names));
    if (names == NULL) {
        rc = ODS_E_NOMEM;
        goto out;
    }
    while (n < SERVICES_MAX && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 8 || strcmp(de->d_name + len - 8, ".service") != 0
            || !service_running(dirfd(d), de->d_name))
            continue;
        if ((names[n] = strdup(de->d_name)) == NULL) {
            rc = ODS_E_NOMEM;
            goto out;
        }
        n++;
    }
    qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++) {
        json_t *o = json_object();
        if (o == NULL || inv_set_str(o, "name", names[i]) != 0 || inv_set_str(o, "state", "running") != 0) {
            json_decref(o);
            rc = ODS_E_NOMEM;
            break;
        }
        rc = inv_append_new(services, o);
    }
out:
    for (size_t i = 0; names != NULL && i < n; i++)
        free(names[i]);
    free(names);
    if (d != NULL)
        closedir(d);
    return rc;
}
