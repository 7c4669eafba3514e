/* inventory.h - the collectors of the inventory scan. Each reads its files under a
 * root prefix ("" for the live host) so unit tests run them on fixture trees, and
 * appends JSON objects to an array the caller owns. All return 0, ODS_E_NOMEM, or
 * ODS_E_IO when a file that exists cannot be read; a missing file is no error. */
#ifndef ODSCAN_AGENT_INVENTORY_H
#define ODSCAN_AGENT_INVENTORY_H

#include <jansson.h>
#include <stdbool.h>

#define INVENTORY_DPKG_STATUS "/var/lib/dpkg/status"
#define INVENTORY_APK_DB      "/lib/apk/db/installed"

/* inventory_pkg_dpkg appends {"manager":"dpkg","name","version","arch","source",
 * "source_version"} for every paragraph whose Status is "<want> ok installed" of the dpkg
 * status file. *found tells whether the file exists. */
int inventory_pkg_dpkg(const char *root, json_t *packages, bool *found);
/* inventory_pkg_apk appends {"manager":"apk",...} for every package of the apk
 * installed database (P: name, V: version, A: arch, o: origin as source). */
int inventory_pkg_apk(const char *root, json_t *packages, bool *found);
/* inventory_rpm_present tells whether an rpm database exists (it is not read: this
 * build has no librpm). */
bool inventory_rpm_present(const char *root);

/* inventory_os fills {"name","version","id","pretty_name","codename","kernel",
 * "kernel_version","arch"} from os-release (ROOT/etc/os-release, else
 * ROOT/usr/lib/os-release) and uname(2). */
int inventory_os(const char *root, json_t *os);
/* inventory_host fills {"hostname","fqdn","machine_id","cpu_model","cpu_count",
 * "memory_bytes","uptime_s","boot_time"}. */
int inventory_host(const char *root, json_t *host);

/* inventory_interfaces appends {"name","mac","ipv4":[],"ipv6":[]} per interface of
 * the live host (getifaddrs; no root prefix). */
int inventory_interfaces(json_t *interfaces);
/* inventory_listening appends {"proto","address","port","pid","process"} for every
 * listening TCP socket and unconnected UDP socket of ROOT/proc/net/{tcp,tcp6,udp,udp6};
 * pid and process come from ROOT/proc/<pid>/fd links and are null when not visible. */
int inventory_listening(const char *root, json_t *listening);
/* inventory_users appends {"name","uid","gid","home","shell"} per ROOT/etc/passwd
 * entry. */
int inventory_users(const char *root, json_t *users);
/* inventory_services appends {"name","state":"running"} per systemd service whose
 * cgroup has processes; *systemd tells whether systemd runs (ROOT/run/systemd/system). */
int inventory_services(const char *root, json_t *services, bool *systemd);

/* inventory_collect builds the whole inventory document (see docs/agent.md) of the
 * host under root. Caller owns *doc. Returns 0 or a negative code. */
int inventory_collect(const char *root, json_t **doc);

#endif
