/* inventory_net.c - network interfaces (getifaddrs) and listening sockets
 * (/proc/net/{tcp,tcp6,udp,udp6}, owners found through /proc/<pid>/fd links). */
#include "inventory.h"
#include "cpu.h"
#include "err.h"
#include "inv.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOCKETS_MAX   65536   /* listening sockets reported at most */
#define TCP_LISTEN    0x0A
#define TCP_CLOSE     0x07    /* what an unconnected UDP socket shows */

/* ---- interfaces ----------------------------------------------------------------- */

/* iface_get finds the entry of name in the array, creating it in order of first
 * appearance. Returns a borrowed reference or NULL on allocation failure. */
static json_t *
iface_get(json_t *interfaces, const char *name)
{
    size_t i;
    json_t *o;

    json_array_foreach(interfaces, i, o)
        if (strcmp(json_string_value(json_object_get(o, "name")), name) == 0)
            return o;
    o = json_object();
    if (o == NULL || inv_set_str(o, "name", name) != 0 || inv_set_str(o, "mac", NULL) != 0
        || inv_set_new(o, "ipv4", json_array()) != 0 || inv_set_new(o, "ipv6", json_array()) != 0) {
        json_decref(o);
        return NULL;
    }
    if (inv_append_new(interfaces, o) != ODS_E_OK)
        return NULL;
    return o;
}

static int
iface_add(json_t *iface, const struct sockaddr *sa)
{
    char text[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_PACKET) {
        const struct sockaddr_ll *ll = (const struct sockaddr_ll *)sa;
        if (ll->sll_halen != 6)
            return ODS_E_OK;
        int n = snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", ll->sll_addr[0],
            ll->sll_addr[1], ll->sll_addr[2], ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
        if (n < 0 || (size_t)n >= sizeof(text))
            return ODS_E_OK;
        return inv_set_str(iface, "mac", text);
    }
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) == NULL)
            return ODS_E_OK;
        return inv_append_str(json_object_get(iface, "ipv4"), text);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)) == NULL)
            return ODS_E_OK;
        return inv_append_str(json_object_get(iface, "ipv6"), text);
    }
    return ODS_E_OK;
}

int
inventory_interfaces(json_t *interfaces)
{
    struct ifaddrs *list = NULL;
    int rc = ODS_E_OK;

    if (getifaddrs(&list) != 0)
        return ODS_E_IO;
    for (struct ifaddrs *ifa = list; ifa != NULL && rc == ODS_E_OK; ifa = ifa->ifa_next) {
        if (ifa->ifa_name == NULL)
            continue;
        json_t *iface = iface_get(interfaces, ifa->ifa_name);
        if (iface == NULL) {
            rc = ODS_E_NOMEM;
            break;
        }
        if (ifa->ifa_addr != NULL)
            rc = iface_add(iface, ifa->ifa_addr);
    }
    freeifaddrs(list);
    return rc;
}

/* ---- listening sockets ---------------------------------------------------------- */

struct sock {
    size_t        file;      /* row of sock_files */
    const char   *proto;
    char          address[INET6_ADDRSTRLEN];
    unsigned      port;
    uint64_t      inode;
    long          pid;       /* -1: not found */
};

struct sock_table {
    struct sock *v;
    size_t       n, cap;
};

static const struct {
    const char *proto;
    const char *path;
    int         family;
    unsigned    state;       /* the st value that means "listening" */
} sock_files[] = {
    { "tcp",  "/proc/net/tcp",  AF_INET,  TCP_LISTEN },
    { "tcp6", "/proc/net/tcp6", AF_INET6, TCP_LISTEN },
    { "udp",  "/proc/net/udp",  AF_INET,  TCP_CLOSE },
    { "udp6", "/proc/net/udp6", AF_INET6, TCP_CLOSE },
};

/* hex_u32 parses exactly 8 hex digits. */
static int
hex_u32(const char *s, uint32_t *out)
{
    uint32_t v = 0;

    for (int i = 0; i < 8; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
            : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
            : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
        if (d == 16)
            return ODS_E_PARSE;
        v = v << 4 | d;
    }
    *out = v;
    return ODS_E_OK;
}

/* parse_endpoint reads "0100007F:0016" (IPv4) or 32 hex digits + ":PORT" (IPv6). The
 * kernel prints each 32-bit word of the address as a native-endian number. */
static int
parse_endpoint(const char *s, int family, char *addr, size_t n, unsigned *port, bool *any)
{
    unsigned char raw[16];
    size_t words = family == AF_INET ? 1 : 4;
    uint32_t w, p;

    for (size_t i = 0; i < words; i++) {
        if (hex_u32(s + 8 * i, &w) != ODS_E_OK)
            return ODS_E_PARSE;
        memcpy(raw + 4 * i, &w, 4);
    }
    s += 8 * words;
    if (s[0] != ':' || strspn(s + 1, "0123456789ABCDEFabcdef") != 4)
        return ODS_E_PARSE;
    char padded[9] = "0000";
    memcpy(padded + 4, s + 1, 4);
    padded[8] = '\0';
    if (hex_u32(padded, &p) != ODS_E_OK)
        return ODS_E_PARSE;
    *port = p;
    *any = true;
    for (size_t i = 0; i < 4 * words; i++)
        if (raw[i] != 0)
            *any = false;
    if (addr != NULL && inet_ntop(family, raw, addr, (socklen_t)n) == NULL)
        return ODS_E_PARSE;
    return ODS_E_OK;
}

static int
table_push(struct sock_table *t, const struct sock *s)
{
    if (t->n == SOCKETS_MAX)
        return ODS_E_OK;
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        struct sock *grown = realloc(t->v, ncap * sizeof(*grown));
        if (grown == NULL)
            return ODS_E_NOMEM;
        t->v = grown;
        t->cap = ncap;
    }
    t->v[t->n++] = *s;
    return ODS_E_OK;
}

/* parse_sock_line reads "sl local rem st tx:rx tr:when retr uid timeout inode ...". */
static int
parse_sock_line(const char *line, size_t file, struct sock *s)
{
    char local[64], remote[64], inode[24];
    unsigned state;
    unsigned rport;
    bool any = false, remote_any = false;

    if (sscanf(line, " %*[^:]: %63s %63s %x %*s %*s %*s %*s %*s %23s", local, remote, &state,
            inode) != 4)
        return ODS_E_PARSE;
    if (state != sock_files[file].state)
        return ODS_E_NOTFOUND;
    if (parse_endpoint(remote, sock_files[file].family, NULL, 0, &rport, &remote_any) != ODS_E_OK)
        return ODS_E_PARSE;
    if (!remote_any || rport != 0)
        return ODS_E_NOTFOUND;   /* a connected UDP socket */
    s->file = file;
    s->proto = sock_files[file].proto;
    s->pid = -1;
    if (parse_endpoint(local, sock_files[file].family, s->address, sizeof(s->address), &s->port,
            &any) != ODS_E_OK || parse_u64(inode, UINT64_MAX, &s->inode) != ODS_E_OK)
        return ODS_E_PARSE;
    return ODS_E_OK;
}

static int
read_sockets(const char *root, size_t file, struct sock_table *t)
{
    FILE *fp = inv_fopen(root, sock_files[file].path);
    char *line = NULL;
    size_t cap = 0;
    int rc = ODS_E_OK;
    bool header = true;

    if (fp == NULL)
        return errno == ENOENT ? ODS_E_OK : ODS_E_IO;
    while (rc == ODS_E_OK && inv_getline(fp, &line, &cap)) {
        struct sock s;
        if (header) {
            header = false;
            continue;
        }
        if (parse_sock_line(line, file, &s) == ODS_E_OK)
            rc = table_push(t, &s);
    }
    free(line);
    fclose(fp);
    return rc;
}

static int
by_inode(const void *a, const void *b)
{
    const struct sock *x = a, *y = b;

    return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* by_endpoint orders the report: tcp, tcp6, udp, udp6, then port, then address. */
static int
by_endpoint(const void *a, const void *b)
{
    const struct sock *x = a, *y = b;

    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return strcmp(x->address, y->address);
}

/* owner_of_fd matches one /proc/<pid>/fd entry against the sockets. */
static void
owner_of_fd(int fd_dir, const char *name, long pid, struct sock_table *t)
{
    char target[64];
    uint64_t inode;
    ssize_t len = readlinkat(fd_dir, name, target, sizeof(target) - 1);

    if (len <= 9 || strncmp(target, "socket:[", 8) != 0 || target[len - 1] != ']')
        return;
    target[len - 1] = '\0';
    if (parse_u64(target + 8, UINT64_MAX, &inode) != ODS_E_OK)
        return;
    struct sock key = { .inode = inode };
    struct sock *s = bsearch(&key, t->v, t->n, sizeof(*t->v), by_inode);
    /* bsearch may land on any of several equal inodes; inodes are unique per socket. */
    if (s != NULL && s->pid < 0)
        s->pid = pid;
}

/* find_owners walks ROOT/proc/<pid>/fd; processes we may not look into stay unknown. */
static void
find_owners(const char *root, struct sock_table *t)
{
    char path[4096];
    DIR *proc;
    struct dirent *de;

    if (t->n == 0 || inv_path(root, "/proc", path, sizeof(path)) != ODS_E_OK
        || (proc = opendir(path)) == NULL)
        return;
    while ((de = readdir(proc)) != NULL) {
        uint64_t pid;
        char rel[300];
        if (parse_u64(de->d_name, INT32_MAX, &pid) != ODS_E_OK)
            continue;
        int n = snprintf(rel, sizeof(rel), "%s/fd", de->d_name);
        if (n < 0 || (size_t)n >= sizeof(rel))
            continue;
        int fd_dir = openat(dirfd(proc), rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *fds = fd_dir >= 0 ? fdopendir(fd_dir) : NULL;
        if (fds == NULL) {
            if (fd_dir >= 0)
                close(fd_dir);
            continue;
        }
        struct dirent *fe;
        while ((fe = readdir(fds)) != NULL)
            if (fe->d_name[0] != '.')
                owner_of_fd(dirfd(fds), fe->d_name, (long)pid, t);
        closedir(fds);
        cpu_slice_done();
    }
    closedir(proc);
}

static int
sock_json(const char *root, const struct sock *s, json_t *listening)
{
    char rel[64], comm[INV_SMALL_MAX];
    const char *process = NULL;
    json_t *o = json_object();

    if (o == NULL)
        return ODS_E_NOMEM;
    if (s->pid >= 0) {
        int n = snprintf(rel, sizeof(rel), "/proc/%ld/comm", s->pid);
        if (n > 0 && (size_t)n < sizeof(rel) && inv_read_small(root, rel, comm, sizeof(comm)) == ODS_E_OK)
            process = comm;
    }
    if (inv_set_str(o, "proto", s->proto) != 0 || inv_set_str(o, "address", s->address) != 0
        || inv_set_int(o, "port", s->port) != 0
        || inv_set_new(o, "pid", s->pid >= 0 ? json_integer(s->pid) : json_null()) != 0
        || inv_set_str(o, "process", process) != 0) {
        json_decref(o);
        return ODS_E_NOMEM;
    }
    return inv_append_new(listening, o);
}

int
inventory_listening(const char *root, json_t *listening)
{
    struct sock_table t = { 0 };
    int rc = ODS_E_OK;

    for (size_t f = 0; f < sizeof(sock_files) / sizeof(sock_files[0]) && rc == ODS_E_OK; f++)
        rc = read_sockets(root, f, &t);
    if (rc == ODS_E_OK && t.n > 0) {
        qsort(t.v, t.n, sizeof(*t.v), by_inode);
        find_owners(root, &t);
        qsort(t.v, t.n, sizeof(*t.v), by_endpoint);
    }
    for (size_t i = 0; i < t.n && rc == ODS_E_OK; i++)
        rc = sock_json(root, &t.v[i], listening);
    free(t.v);
    return rc;
}
