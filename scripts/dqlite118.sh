#!/bin/bash
# dqlite118.sh - run a real dqlite 1.18.x node (Debian's libdqlite0) on a
# Debian 12 host, from a cached chroot built with mmdebstrap from Debian's
# archive only. The host's apt configuration is never read or changed.
#
#   dqlite118.sh start --id N --address 127.0.0.1:PORT --data DIR [--join ADDR[,ADDR..]]
#                      [--role voter|standby|spare] [--busy-timeout MS]
#                      [--network-latency-ms MS]  (e.g. 20: ~0.3-0.6 s elections)
#                      [--timeout SECONDS] [--join-timeout SECONDS]
#   dqlite118.sh stop   [--address ADDR | --id N | --data DIR]   (no selector: every node)
#   dqlite118.sh status [--address ADDR | --id N | --data DIR]
#   dqlite118.sh setup            build/check the cached root tree only
#   dqlite118.sh probe ADDR       LEADER + CLUSTER as seen by ADDR
#
# Environment:
#   DQ118_CACHE   cache directory for root trees   (default /var/cache/dqlite-118)
#   DQ118_SUITE   Debian suite for libdqlite0      (default forky: 1.18.7-1;
#                                                   trixie: 1.18.1-1)
#   DQ118_LIBDQLITE_VERSION  pin an exact Debian version, e.g. 1.18.7-1
#   DQ118_MIRROR  archive URL                      (default http://deb.debian.org/debian)
#   DQ118_KEYRING keyring for the archive          (default /usr/share/keyrings/debian-archive-keyring.gpg)
#   DQ118_ARCH    Debian architecture of the tree  (default: the host's, dpkg --print-architecture;
#                                                   a foreign one needs qemu-user binfmt_misc to build)
#   DQ118_RUN     pid files and node logs          (default /run/dqlite-118)
#   DQ118_ANY_VERSION=1  accept a libdqlite0 that is not 1.18.x
#
# A node with id 1 bootstraps a one-voter cluster when its data dir is empty
# (libdqlite's own rule). Other ids start without a configuration: give
# --join (the node then finds the leader and sends ADD + ASSIGN itself), or
# add them from a client with ADD(id, address) and ASSIGN(id, role).
#
# Origin: copied unchanged from /work/shared/tools/dqlite18/dqlite118.sh; owned by
# swift-dqlite since then (used by scripts/capture/capture_golden.py). The node
# program embedded below is the original one, so the chroot cache stamp stays the
# same as the shared script's; scripts/capture/dqlite-node.c (the host build)
# additionally has --failure-domain.
set -euo pipefail

CACHE=${DQ118_CACHE:-/var/cache/dqlite-118}
SUITE=${DQ118_SUITE:-forky}
PIN=${DQ118_LIBDQLITE_VERSION:-}
MIRROR=${DQ118_MIRROR:-http://deb.debian.org/debian}
KEYRING=${DQ118_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
RUNDIR=${DQ118_RUN:-/run/dqlite-118}
ARCH=${DQ118_ARCH:-$(dpkg --print-architecture)}
# amd64 keeps the original tree path and stamp, so caches built before DQ118_ARCH existed stay valid;
# any other architecture gets a tree of its own (e.g. $CACHE/forky-arm64) and its name in the stamp.
ARCH_SUFFIX=""
[ "$ARCH" = amd64 ] || ARCH_SUFFIX=-$ARCH
SUITEDIR=$CACHE/$SUITE${PIN:+-$PIN}$ARCH_SUFFIX
ROOT=$SUITEDIR/root
NODEBIN=/usr/local/bin/dqlite-node
ME=dqlite118

say() { printf '%s: %s\n' "$ME" "$*"; }
die() { printf '%s: error: %s\n' "$ME" "$*" >&2; exit 1; }

node_source() {
cat <<'CSRC'
/* dqlite-node: run one dqlite node (libdqlite node API) and optionally join
 * it to an existing cluster with the client wire protocol (ADD + ASSIGN).
 *
 *   dqlite-node --id N --address HOST:PORT --data DIR
 *               [--bind ADDR] [--join ADDR[,ADDR...]] [--role voter|standby|spare]
 *               [--busy-timeout MS] [--network-latency-ms MS] [--join-timeout S]
 * --network-latency-ms sets raft's heartbeat (1.5x) and election (15x)
 * timeouts; the default (3 s election) makes failover take 3-6 s.
 *   dqlite-node probe ADDR        print LEADER and CLUSTER as seen by ADDR
 *   dqlite-node --version         print the library's version
 *
 * Node id 1 bootstraps a new single-voter cluster when DIR is empty (this is
 * libdqlite's own rule: ids 1 and 0x2dc171858c3155be self-bootstrap). Any other
 * id starts with no configuration and waits until a leader ADDs it; --join
 * does that (finds the leader via LEADER, CLUSTER to skip an existing member,
 * ADD id/address, then ASSIGN the role).
 * Prints "READY ..." on stdout once it accepts connections (and has joined).
 * SIGTERM/SIGINT: dqlite_node_stop + dqlite_node_destroy, exit 0.
 * Builds against libdqlite-dev 1.11.1 .. 1.18.x. */
#define _GNU_SOURCE
#include <dqlite.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Optional symbols: absent from older libraries / headers. */
#pragma weak dqlite_version_string
#pragma weak dqlite_node_set_busy_timeout
extern const char *dqlite_version_string;
extern int dqlite_node_set_busy_timeout(dqlite_node *n, unsigned msecs);

static const char *lib_version(char *buf, size_t n)
{
	if (&dqlite_version_string != NULL && dqlite_version_string != NULL) {
		/* "1.18.7@<build tag>"; Debian's build tag is empty */
		snprintf(buf, n, "%s", dqlite_version_string);
		size_t l = strlen(buf);
		if (l > 0 && buf[l - 1] == '@') buf[l - 1] = 0;
	} else {
		int v = dqlite_version_number();
		snprintf(buf, n, "%d.%d.%d", v / 10000, (v / 100) % 100, v % 100);
	}
	return buf;
}

/* ---------------- minimal wire client ---------------- */
struct buf { uint8_t *p; size_t len, cap; };
static void b_need(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap) return;
	while (b->len + n > b->cap) b->cap = b->cap ? b->cap * 2 : 256;
	b->p = realloc(b->p, b->cap);
	if (!b->p) abort();
}
static void b_u64(struct buf *b, uint64_t v)
{
	b_need(b, 8);
	for (int i = 0; i < 8; i++) b->p[b->len++] = (uint8_t)(v >> (8 * i));
}
static void b_text(struct buf *b, const char *s)
{
	size_t n = strlen(s) + 1, padded = (n + 7) / 8 * 8;
	b_need(b, padded);
	memset(b->p + b->len, 0, padded);
	memcpy(b->p + b->len, s, n - 1);
	b->len += padded;
}
static uint64_t g_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
	return v;
}
/* Reads a text field at *off; returns pointer or NULL. */
static const char *g_text(const uint8_t *body, size_t len, size_t *off)
{
	if (*off >= len) return NULL;
	const char *s = (const char *)body + *off;
	const void *nul = memchr(s, 0, len - *off);
	if (!nul) return NULL;
	size_t n = (size_t)((const char *)nul - s) + 1;
	*off += (n + 7) / 8 * 8;
	return s;
}

static int io_all(int fd, void *p, size_t n, int wr)
{
	uint8_t *c = p;
	while (n > 0) {
		ssize_t r = wr ? send(fd, c, n, MSG_NOSIGNAL) : recv(fd, c, n, 0);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		c += r; n -= (size_t)r;
	}
	return 0;
}

static void set_timeout(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs, .tv_usec = 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connect to "host:port" / "[v6]:port" and send the protocol handshake. */
static int wire_connect(const char *addr)
{
	char host[256], *port;
	snprintf(host, sizeof host, "%s", addr);
	port = strrchr(host, ':');
	if (!port) return -1;
	*port++ = 0;
	char *h = host;
	if (*h == '[') { h++; char *e = strchr(h, ']'); if (e) *e = 0; }
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (getaddrinfo(h, port, &hints, &ai) != 0) return -1;
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0) { freeaddrinfo(ai); return -1; }
	set_timeout(fd, 5);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		freeaddrinfo(ai); close(fd); return -1;
	}
	freeaddrinfo(ai);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	uint8_t hs[8] = { 1 };
	if (io_all(fd, hs, 8, 1) != 0) { close(fd); return -1; }
	return fd;
}

struct resp { uint8_t type, schema; uint8_t *body; size_t len; };

static int roundtrip(int fd, uint8_t type, struct buf *req, struct resp *r)
{
	uint8_t hdr[8] = { 0 };
	uint32_t words = (uint32_t)(req->len / 8);
	for (int i = 0; i < 4; i++) hdr[i] = (uint8_t)(words >> (8 * i));
	hdr[4] = type;
	if (io_all(fd, hdr, 8, 1) || io_all(fd, req->p, req->len, 1)) return -1;
	if (io_all(fd, hdr, 8, 0)) return -1;
	words = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
		(uint32_t)hdr[3] << 24;
	r->type = hdr[4]; r->schema = hdr[5]; r->len = (size_t)words * 8;
	r->body = malloc(r->len ? r->len : 1);
	if (!r->body || io_all(fd, r->body, r->len, 0)) { free(r->body); r->body = NULL; return -1; }
	return 0;
}

/* Describes a FAILURE response into msg. Returns the code, or -1 if not FAILURE. */
static long long failure(const struct resp *r, char *msg, size_t n)
{
	if (r->type != 0 || r->len < 8) return -1;
	size_t off = 8;
	const char *m = g_text(r->body, r->len, &off);
	snprintf(msg, n, "%s", m ? m : "?");
	return (long long)g_u64(r->body);
}

static int leader_of(const char *addr, uint64_t *id, char *out, size_t n)
{
	int fd = wire_connect(addr);
	if (fd < 0) return -1;
	struct buf q = { 0 };
	struct resp r = { 0 };
	b_u64(&q, 0);
	int rv = -1;
	if (roundtrip(fd, 0 /* LEADER */, &q, &r) == 0 && r.type == 1 && r.len >= 16) {
		size_t off = 8;
		const char *a = g_text(r.body, r.len, &off);
		*id = g_u64(r.body);
		snprintf(out, n, "%s", a ? a : "");
		rv = 0;
	}
	free(q.p); free(r.body); close(fd);
	return rv;
}

struct member { uint64_t id, role; char addr[256]; };

static int cluster(int fd, struct member *m, int max)
{
	struct buf q = { 0 };
	struct resp r = { 0 };
	b_u64(&q, 1);
	int count = -1;
	if (roundtrip(fd, 16 /* CLUSTER */, &q, &r) == 0 && r.type == 3 && r.len >= 8) {
		uint64_t n = g_u64(r.body);
		size_t off = 8;
		count = 0;
		for (uint64_t i = 0; i < n && off + 8 <= r.len; i++) {
			uint64_t id = g_u64(r.body + off); off += 8;
			const char *a = g_text(r.body, r.len, &off);
			if (!a || off + 8 > r.len) break;
			uint64_t role = g_u64(r.body + off); off += 8;
			if (count < max) {
				m[count].id = id; m[count].role = role;
				snprintf(m[count].addr, sizeof m[count].addr, "%s", a);
				count++;
			}
		}
	}
	free(q.p); free(r.body);
	return count;
}

static const char *role_name(uint64_t r)
{
	return r == 0 ? "voter" : r == 1 ? "standby" : r == 2 ? "spare" : "?";
}

/* Simple request expecting EMPTY; returns 0, or FAILURE code (>0), or -1 on I/O. */
static long long admin(int fd, uint8_t type, struct buf *q, char *msg, size_t n)
{
	struct resp r = { 0 };
	long long rv = -1;
	msg[0] = 0;
	if (roundtrip(fd, type, q, &r) == 0) {
		if (r.type == 8) rv = 0;
		else if ((rv = failure(&r, msg, n)) < 0) { snprintf(msg, n, "unexpected response type %d", r.type); rv = 1; }
		else if (rv == 0) rv = 1000000; /* FAILURE code 0 */
	} else snprintf(msg, n, "i/o error: %s", strerror(errno));
	free(r.body);
	return rv;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Find the leader through any of the comma-separated addresses. */
static int find_leader(const char *list, char *leader, size_t n)
{
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s", list);
	for (char *save = NULL, *a = strtok_r(tmp, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		uint64_t id = 0;
		if (leader_of(a, &id, leader, n) == 0 && id != 0 && leader[0]) return 0;
	}
	return -1;
}

static int do_join(uint64_t self, const char *address, const char *join, uint64_t role, double timeout)
{
	double deadline = now_s() + timeout;
	char leader[256], msg[512], last[1024] = "no leader found";
	while (now_s() < deadline) {
		if (find_leader(join, leader, sizeof leader) != 0) {
			snprintf(last, sizeof last, "no leader known via %s", join);
			usleep(300000);
			continue;
		}
		int fd = wire_connect(leader);
		if (fd < 0) { snprintf(last, sizeof last, "cannot connect to leader %s", leader); usleep(300000); continue; }
		set_timeout(fd, 30);
		struct member m[64];
		int n = cluster(fd, m, 64), have = -1;
		for (int i = 0; i < n; i++)
			if (m[i].id == self) have = i;
		if (have >= 0 && strcmp(m[have].addr, address) != 0) {
			fprintf(stderr, "dqlite-node: id %llu is already a member with address %s\n",
				(unsigned long long)self, m[have].addr);
			close(fd);
			return -1;
		}
		uint64_t cur = have >= 0 ? m[have].role : 2;
		long long rc = 0;
		if (have < 0) {
			struct buf q = { 0 };
			b_u64(&q, self); b_text(&q, address);
			rc = admin(fd, 12 /* ADD */, &q, msg, sizeof msg);
			free(q.p);
			if (rc != 0) snprintf(last, sizeof last, "ADD via %s failed: %lld %s", leader, rc, msg);
			else printf("JOIN added id=%llu address=%s via leader %s\n", (unsigned long long)self, address, leader);
		}
		if (rc == 0 && cur != role) {
			struct buf q = { 0 };
			b_u64(&q, self); b_u64(&q, role);
			rc = admin(fd, 13 /* ASSIGN */, &q, msg, sizeof msg);
			free(q.p);
			if (rc != 0) snprintf(last, sizeof last, "ASSIGN %s via %s failed: %lld %s", role_name(role), leader, rc, msg);
			else printf("JOIN assigned id=%llu role=%s\n", (unsigned long long)self, role_name(role));
		}
		close(fd);
		if (rc == 0) {
			if (have >= 0 && cur == role)
				printf("JOIN already a member id=%llu role=%s\n", (unsigned long long)self, role_name(role));
			fflush(stdout);
			return 0;
		}
		fprintf(stderr, "dqlite-node: %s (retrying)\n", last);
		usleep(500000);
	}
	fprintf(stderr, "dqlite-node: join failed: %s\n", last);
	return -1;
}

static int probe(const char *addr)
{
	uint64_t id = 0;
	char leader[256];
	if (leader_of(addr, &id, leader, sizeof leader) != 0) {
		printf("unreachable %s\n", addr);
		return 1;
	}
	printf("leader %llu %s\n", (unsigned long long)id, leader[0] ? leader : "-");
	int fd = wire_connect(addr);
	if (fd < 0) return 1;
	struct member m[64];
	int n = cluster(fd, m, 64);
	for (int i = 0; i < n; i++)
		printf("member %llu %s %s\n", (unsigned long long)m[i].id, m[i].addr, role_name(m[i].role));
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dqlite-node --id N --address HOST:PORT --data DIR [--bind ADDR]\n"
			"                   [--join ADDR[,ADDR..]] [--role voter|standby|spare]\n"
			"                   [--busy-timeout MS] [--network-latency-ms MS] [--join-timeout S]\n"
			"       dqlite-node probe ADDR | --version\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char ver[64];
	const char *address = NULL, *bind = NULL, *data = NULL, *join = NULL;
	unsigned long long id = 0;
	uint64_t role = 0;
	long busy = -1, latency = -1;
	double join_timeout = 60;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s %d version_string=%s\n", lib_version(ver, sizeof ver), dqlite_version_number(),
		       &dqlite_version_string != NULL ? dqlite_version_string : "(absent)");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "probe") == 0) return probe(argv[2]);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) usage();
		if (!strcmp(o, "--id")) id = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--address")) address = v;
		else if (!strcmp(o, "--bind")) bind = v;
		else if (!strcmp(o, "--data")) data = v;
		else if (!strcmp(o, "--join")) join = v[0] ? v : NULL;
		else if (!strcmp(o, "--busy-timeout")) busy = strtol(v, NULL, 10);
		else if (!strcmp(o, "--join-timeout")) join_timeout = atof(v);
		else if (!strcmp(o, "--network-latency-ms")) latency = strtol(v, NULL, 10);
		else if (!strcmp(o, "--role")) {
			if (!strcmp(v, "voter")) role = 0;
			else if (!strcmp(v, "standby")) role = 1;
			else if (!strcmp(v, "spare")) role = 2;
			else usage();
		} else usage();
		i++;
	}
	if (!id || !address || !data) usage();
	/* Do not keep descriptors inherited from the launcher (lock files,
	 * pipes of whoever started us). */
	if (close_range(3, ~0U, 0) != 0)
		for (int fd = 3; fd < 1024; fd++) close(fd);
	if (join && id == 1) {
		fprintf(stderr, "dqlite-node: id 1 always bootstraps its own cluster; use another id with --join\n");
		return 2;
	}

	/* Block termination signals in every thread (libdqlite's threads inherit
	 * this mask); the main thread collects them with sigwait(). */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	dqlite_node *node = NULL;
	int rv = dqlite_node_create(id, address, data, &node);
	if (rv == 0) rv = dqlite_node_set_bind_address(node, bind ? bind : address);
	if (rv == 0 && busy >= 0) {
		if (dqlite_node_set_busy_timeout) rv = dqlite_node_set_busy_timeout(node, (unsigned)busy);
		else fprintf(stderr, "dqlite-node: --busy-timeout not supported by this libdqlite, ignored\n");
	}
	if (rv == 0 && latency > 0) rv = dqlite_node_set_network_latency_ms(node, (unsigned)latency);
	if (rv == 0) rv = dqlite_node_start(node);
	if (rv != 0) {
		fprintf(stderr, "dqlite-node: start failed (%d): %s\n", rv, node ? dqlite_node_errmsg(node) : "");
		dqlite_node_destroy(node);
		return 1;
	}
	printf("STARTED id=%llu address=%s libdqlite=%s version_number=%d\n", id, address,
	       lib_version(ver, sizeof ver), dqlite_version_number());
	if (join && do_join(id, address, join, role, join_timeout) != 0) {
		dqlite_node_stop(node);
		dqlite_node_destroy(node);
		return 3;
	}
	printf("READY id=%llu address=%s pid=%d libdqlite=%s\n", id, address, (int)getpid(),
	       lib_version(ver, sizeof ver));

	int sig = 0;
	sigwait(&set, &sig);
	printf("STOPPING on signal %d\n", sig);
	rv = dqlite_node_stop(node);
	if (rv != 0) fprintf(stderr, "dqlite-node: stop: %s\n", dqlite_node_errmsg(node));
	dqlite_node_destroy(node);
	printf("STOPPED\n");
	return 0;
}
CSRC
}

stamp() {
	{ node_source; echo "suite=$SUITE pin=$PIN mirror=$MIRROR layout=2${ARCH_SUFFIX:+ arch=$ARCH}"; } | sha256sum | cut -c1-16
}

running_from_root() { # any tracked node alive that uses $ROOT?
	local f
	for f in "$RUNDIR"/*.info; do
		[ -e "$f" ] || continue
		local pid root
		pid=$(sed -n 's/^pid=//p' "$f"); root=$(sed -n 's/^root=//p' "$f")
		[ "$root" = "$ROOT" ] && alive "$pid" "$(sed -n 's/^address=//p' "$f")" && return 0
	done
	return 1
}

ensure_root() {
	mkdir -p "$CACHE"
	exec 8>"$CACHE/.lock"
	flock 8
	local want; want=$(stamp)
	if [ -x "$ROOT$NODEBIN" ] && [ "$(cat "$ROOT/etc/dq118-stamp" 2>/dev/null)" = "$want" ]; then
		flock -u 8; return 0
	fi
	if [ -d "$ROOT" ] && running_from_root; then
		die "cached tree $ROOT is outdated but nodes still run from it; stop them first"
	fi
	command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
	local t0=$SECONDS new="$SUITEDIR/root.new.$$" src log="$SUITEDIR/build.log"
	local pkgs="libdqlite0,libdqlite-dev,gcc,libc6-dev"
	[ -n "$PIN" ] && pkgs="libdqlite0=$PIN,libdqlite-dev=$PIN,gcc,libc6-dev"
	mkdir -p "$SUITEDIR"; rm -rf "$SUITEDIR"/root.new.*
	src=$(mktemp -d); node_source > "$src/dqlite-node.c"
	say "building $ROOT ($SUITE $ARCH, $pkgs) - log: $log"
	if ! mmdebstrap --variant=apt --architectures="$ARCH" --include="$pkgs" \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--customize-hook="copy-in $src/dqlite-node.c /usr/local/src" \
		--customize-hook='chroot "$1" gcc -O2 -Wall -o /usr/local/bin/dqlite-node /usr/local/src/dqlite-node.c -ldqlite' \
		--customize-hook='chroot "$1" apt-get purge -y -q --autoremove gcc libc6-dev libdqlite-dev' \
		--customize-hook='chroot "$1" dpkg-query -W -f "\${Version}\n" libdqlite0 > "$1/etc/dq118-libdqlite0"' \
		--customize-hook='chroot "$1" /usr/local/bin/dqlite-node --version > "$1/etc/dq118-libversion"' \
		--customize-hook='mkdir -p "$1/data"' \
		"$SUITE" "$new" "deb [signed-by=$KEYRING] $MIRROR $SUITE main" >"$log" 2>&1; then
		rm -rf "$src" "$new"
		tail -n 20 "$log" >&2
		die "mmdebstrap failed (see $log)"
	fi
	rm -rf "$src"
	local v; v=$(cat "$new/etc/dq118-libdqlite0")
	case "$v" in
	1.18.*) ;;
	*) if [ "${DQ118_ANY_VERSION:-}" != 1 ]; then rm -rf "$new"; die "suite $SUITE has libdqlite0 $v, not 1.18.x (set DQ118_SUITE / DQ118_LIBDQLITE_VERSION, or DQ118_ANY_VERSION=1)"; fi ;;
	esac
	echo "$want" > "$new/etc/dq118-stamp"
	rm -rf "$ROOT"; mv "$new" "$ROOT"
	say "built $ROOT in $((SECONDS - t0)) s: libdqlite0 $v, $(du -shx "$ROOT" | cut -f1)"
	flock -u 8
}

key_of() { printf '%s' "$1" | tr -c 'A-Za-z0-9.\n' '_'; }

alive() { # pid address: is pid our dqlite-node for that address?
	local pid=$1 addr=$2 cmd
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
	case "$cmd" in "$NODEBIN "*"--address $addr "*) return 0 ;; esac
	return 1
}

info_get() { sed -n "s/^$2=//p" "$1"; }

port_open() { # host port
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

ready_line() { # info-file [note]
	local f=$1
	say "ready id=$(info_get "$f" id) address=$(info_get "$f" address) pid=$(info_get "$f" pid)" \
		"libdqlite=$(info_get "$f" libversion) (Debian libdqlite0 $(info_get "$f" package), $(info_get "$f" suite))" \
		"data=$(info_get "$f" data) log=$(info_get "$f" log)${2:+ $2}"
}

cmd_start() {
	local id="" addr="" data="" join="" role="" busy="" latency="" timeout=90 jtimeout=60
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || die "missing value for $1"
		case "$1" in
		--id) id=$2 ;; --address) addr=$2 ;; --data) data=$2 ;; --join) join=$2 ;;
		--role) role=$2 ;; --busy-timeout) busy=$2 ;; --timeout) timeout=$2 ;;
		--join-timeout) jtimeout=$2 ;; --network-latency-ms) latency=$2 ;;
		*) die "unknown option $1" ;;
		esac
		shift 2
	done
	[[ "$id" =~ ^[1-9][0-9]*$ ]] || die "--id must be a positive integer"
	[[ "$addr" =~ ^([0-9.]+|\[[0-9a-fA-F:]+\]):([0-9]+)$ ]] || die "--address must be HOST:PORT (numeric host)"
	local host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
	host=${host#[}; host=${host%]}
	[ -n "$data" ] || die "--data DIR is required"
	[ "$id" = 1 ] && [ -n "$join" ] && die "id 1 always bootstraps its own cluster; use another id with --join"
	data=$(realpath -m "$data")
	ensure_root
	mkdir -p "$RUNDIR"
	local key f lock
	key=$(key_of "$addr"); f=$RUNDIR/$key.info
	exec 9>"$RUNDIR/$key.lock"; flock 9
	if [ -e "$f" ]; then
		if alive "$(info_get "$f" pid)" "$addr"; then
			[ "$(info_get "$f" id)" = "$id" ] && [ "$(info_get "$f" data)" = "$data" ] ||
				die "$addr is already served by id $(info_get "$f" id) data $(info_get "$f" data)"
			ready_line "$f" "(already running)"
			return 0
		fi
		rm -f "$f"
	fi
	port_open "$host" "$port" && die "$addr is already in use by another process"
	mkdir -p "$data"
	local log=$RUNDIR/$key.log fresh=no
	[ -e "$data/metadata1" ] || [ -e "$data/metadata2" ] || fresh=yes
	local args=(--id "$id" --address "$addr" --data /data)
	[ -n "$join" ] && args+=(--join "$join" --join-timeout "$jtimeout")
	[ -n "$role" ] && args+=(--role "$role")
	[ -n "$busy" ] && args+=(--busy-timeout "$busy")
	[ -n "$latency" ] && args+=(--network-latency-ms "$latency")
	local t0; t0=$(date +%s.%N)
	# Private mount namespace: nothing mounted here is visible on the host and
	# every mount disappears with the node process. The cached tree is bound
	# read-only, so several nodes can share it; only DIR (as /data) is writable.
	setsid unshare --mount --propagation private -- /bin/sh -c '
		set -e
		R=$1; D=$2; shift 2
		mount --bind "$R" "$R"
		mount -o remount,bind,ro "$R"
		mount -t proc proc "$R/proc"
		for n in null zero full random urandom; do mount --bind "/dev/$n" "$R/dev/$n"; done
		mount -t tmpfs -o size=16m,mode=1777 tmpfs "$R/tmp"
		mount --bind "$D" "$R/data"
		exec chroot "$R" '"$NODEBIN"' "$@"
	' dq118-ns "$ROOT" "$data" "${args[@]}" >"$log" 2>&1 </dev/null 8>&- 9>&- &
	local pid=$!
	{
		echo "pid=$pid"; echo "id=$id"; echo "address=$addr"; echo "data=$data"
		echo "log=$log"; echo "suite=$SUITE"; echo "root=$ROOT"
		echo "package=$(cat "$ROOT/etc/dq118-libdqlite0")"
		echo "libversion=$(cut -d' ' -f1 "$ROOT/etc/dq118-libversion" | sed 's/@$//')"
	} > "$f"
	local deadline=$((SECONDS + timeout))
	while ! grep -q '^READY ' "$log" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			rm -f "$f"; tail -n 20 "$log" >&2
			die "node id=$id exited before becoming ready (log $log)"
		fi
		if [ $SECONDS -ge $deadline ]; then
			kill -TERM "$pid" 2>/dev/null || true; sleep 1; kill -KILL "$pid" 2>/dev/null || true
			rm -f "$f"; tail -n 20 "$log" >&2
			die "node id=$id not ready after ${timeout}s (log $log)"
		fi
		sleep 0.05
	done
	alive "$pid" "$addr" || die "pid $pid is not the node process (unexpected)"
	local note
	note="startup=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2fs", b-a}')"
	if [ "$id" != 1 ] && [ -z "$join" ] && [ $fresh = yes ]; then
		note="$note; not a cluster member yet: ADD($id, \"$addr\") + ASSIGN via the leader, or restart with --join"
	fi
	ready_line "$f" "$note"
	flock -u 9
}

select_infos() { # [--address A | --id N | --data D] -> list of info files
	local by="" val=""
	if [ $# -ge 2 ]; then
		case "$1" in --address) by=address ;; --id) by=id ;; --data) by=data; val=$(realpath -m "$2") ;; *) die "unknown option $1" ;; esac
		[ -n "$val" ] || val=$2
	elif [ $# -eq 1 ]; then die "missing value for $1"; fi
	local f
	for f in "$RUNDIR"/*.info; do
		[ -e "$f" ] || continue
		[ -z "$by" ] || [ "$(info_get "$f" "$by")" = "$val" ] || continue
		echo "$f"
	done
}

cmd_stop() {
	local f any=no
	mkdir -p "$RUNDIR"
	for f in $(select_infos "$@" | sort -r); do
		any=yes
		local pid addr id
		pid=$(info_get "$f" pid); addr=$(info_get "$f" address); id=$(info_get "$f" id)
		if alive "$pid" "$addr"; then
			kill -TERM "$pid" 2>/dev/null || true
			local i=0
			while alive "$pid" "$addr" && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
			if alive "$pid" "$addr"; then
				kill -KILL "$pid" 2>/dev/null || true
				while alive "$pid" "$addr"; do sleep 0.1; done
				say "stopped id=$id address=$addr pid=$pid (SIGKILL after 15s)"
			else
				say "stopped id=$id address=$addr pid=$pid"
			fi
		else
			say "id=$id address=$addr was not running (stale record removed)"
		fi
		rm -f "$f"
	done
	[ $any = yes ] || say "no node to stop"
	# Mounts only ever exist inside each node's private namespace and vanish
	# with it; sweep the host namespace anyway in case of manual mounts.
	local m
	for m in $(awk -v c="$CACHE/" 'index($5, c) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount -l "$m" && say "unmounted leftover $m"
	done
	return 0
}

cmd_status() {
	local f n=0 bad=0
	[ -d "$RUNDIR" ] || mkdir -p "$RUNDIR"
	for f in $(select_infos "$@"); do
		n=$((n + 1))
		local pid addr
		pid=$(info_get "$f" pid); addr=$(info_get "$f" address)
		if alive "$pid" "$addr"; then
			say "running id=$(info_get "$f" id) address=$addr pid=$pid libdqlite=$(info_get "$f" libversion) ($(info_get "$f" package), $(info_get "$f" suite)) data=$(info_get "$f" data)"
			local r; r=$(info_get "$f" root)
			timeout 5 chroot "$r" "$NODEBIN" probe "$addr" 2>&1 | sed 's/^/    /' || true
		else
			say "dead id=$(info_get "$f" id) address=$addr pid=$pid (log $(info_get "$f" log))"
			bad=$((bad + 1))
		fi
	done
	[ $n -gt 0 ] || say "no nodes"
	if [ -x "$ROOT$NODEBIN" ]; then
		say "cache $ROOT: libdqlite0 $(cat "$ROOT/etc/dq118-libdqlite0"), $(du -shx "$ROOT" 2>/dev/null | cut -f1)"
	else
		say "cache $ROOT: not built"
	fi
	[ $bad -eq 0 ]
}

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, unshare, chroot)"
cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
status) cmd_status "$@" ;;
setup) ensure_root; say "cache $ROOT ready: libdqlite0 $(cat "$ROOT/etc/dq118-libdqlite0"), $(cat "$ROOT/etc/dq118-libversion")" ;;
probe) [ $# -eq 1 ] || die "usage: probe ADDR"; ensure_root; chroot "$ROOT" "$NODEBIN" probe "$1" ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
