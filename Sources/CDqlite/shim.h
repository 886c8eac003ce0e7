// CDqlite: the parts of libdqlite's C API that swift-dqlite uses to embed a node (DqliteServer) and in
// tests. The client modules never link it: they speak the wire protocol.
#ifndef CDQLITE_SHIM_H
#define CDQLITE_SHIM_H

#include <dqlite.h>

// Arithmetic macros do not import into Swift; expose them as functions.
// Note: Debian's 1.11.1 headers still say 1.10.0 (upstream forgot the bump), so never gate features on it.
static inline int cdqlite_header_version_number(void) { return DQLITE_VERSION_NUMBER; }

// ---------------------------------------------------------------------------------------------------------------
// Raft connections with TCP_NODELAY.
//
// libdqlite's default connect function (1.11.1) dials other nodes with a plain blocking connect and leaves Nagle's
// algorithm on. Raft sends small messages (AppendEntries, their results, heartbeats) and waits for the answer, so
// Nagle meets the peer's delayed ACK and a replicated commit waits ~40 ms: 3 nodes committed ~70 writes/s, p99
// ~45 ms. go-dqlite's `app` dials from Go, which sets TCP_NODELAY. This connect function does the same from C (it
// runs on libuv's thread pool, where blocking is expected): "HOST:PORT", "[V6]:PORT" or "@ABSTRACT" addresses, a
// connect bounded by 5 seconds, close-on-exec, TCP_NODELAY on TCP sockets. `arg` is NULL or a counter that it
// increments for each connection it made (tests use it to prove the function is in use).
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/// RAFT_NOCONNECTION in raft.h: what libraft expects when a peer cannot be reached.
#define CDQLITE_RAFT_NOCONNECTION 16

/// Connects `fd` (non-blocking) to `addr`, waiting at most `timeout_ms`; leaves it blocking again. 0 or -1.
static inline int cdqlite_connect_bounded(int fd, const struct sockaddr *addr, socklen_t len, int timeout_ms) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
    int rc = connect(fd, addr, len);
    if (rc != 0) {
        if (errno != EINPROGRESS) return -1;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        do {
            rc = poll(&p, 1, timeout_ms);
        } while (rc < 0 && errno == EINTR);
        if (rc <= 0) return -1;
        int error = 0;
        socklen_t size = sizeof error;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0) return -1;
    }
    return fcntl(fd, F_SETFL, flags) < 0 ? -1 : 0;
}

/// Dials an abstract Unix socket ("@name").
static inline int cdqlite_connect_abstract(const char *name, int *out) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    size_t length = strlen(name);
    if (length + 1 > sizeof addr.sun_path) return CDQLITE_RAFT_NOCONNECTION;
    memcpy(addr.sun_path + 1, name, length);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return CDQLITE_RAFT_NOCONNECTION;
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length);
    if (cdqlite_connect_bounded(fd, (struct sockaddr *)&addr, size, 5000) != 0) {
        close(fd);
        return CDQLITE_RAFT_NOCONNECTION;
    }
    *out = fd;
    return 0;
}

/// The connect function given to `dqlite_node_set_connect_func`.
static inline int cdqlite_connect_tcp_nodelay(void *arg, const char *address, int *out) {
    if (address == NULL || out == NULL) return CDQLITE_RAFT_NOCONNECTION;
    int rc;
    if (address[0] == '@') {
        rc = cdqlite_connect_abstract(address + 1, out);
    } else {
        char host[256];
        const char *port;
        const char *colon = strrchr(address, ':');
        if (colon == NULL || colon[1] == '\0') return CDQLITE_RAFT_NOCONNECTION;
        const char *start = address;
        size_t length = (size_t)(colon - address);
        if (length >= 2 && address[0] == '[' && address[length - 1] == ']') {
            start = address + 1;
            length -= 2;
        }
        if (length == 0 || length >= sizeof host) return CDQLITE_RAFT_NOCONNECTION;
        memcpy(host, start, length);
        host[length] = '\0';
        port = colon + 1;
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        struct addrinfo *list = NULL;
        if (getaddrinfo(host, port, &hints, &list) != 0 || list == NULL) return CDQLITE_RAFT_NOCONNECTION;
        rc = CDQLITE_RAFT_NOCONNECTION;
        for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
            int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (fd < 0) continue;
            if (cdqlite_connect_bounded(fd, ai->ai_addr, ai->ai_addrlen, 5000) != 0) {
                close(fd);
                continue;
            }
            int one = 1;
            if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
                close(fd);
                continue;
            }
            *out = fd;
            rc = 0;
            break;
        }
        freeaddrinfo(list);
    }
    if (rc == 0 && arg != NULL) atomic_fetch_add_explicit((_Atomic unsigned long *)arg, 1, memory_order_relaxed);
    return rc;
}

/// A counter for `cdqlite_connect_tcp_nodelay`'s `arg`, on the heap (a `static` in this header would be one copy
/// per object file). Free it with `cdqlite_counter_free` after the node is destroyed.
static inline void *cdqlite_counter_create(void) {
    _Atomic unsigned long *counter = malloc(sizeof *counter);
    if (counter != NULL) atomic_init(counter, 0);
    return counter;
}

/// The counter's value.
static inline unsigned long cdqlite_counter_load(void *counter) {
    return counter == NULL ? 0 : atomic_load_explicit((_Atomic unsigned long *)counter, memory_order_relaxed);
}

/// Frees a counter from `cdqlite_counter_create`.
static inline void cdqlite_counter_free(void *counter) { free(counter); }

/// Makes `node` dial other nodes with `cdqlite_connect_tcp_nodelay`. Must be called before `dqlite_node_start`.
static inline int cdqlite_node_use_nodelay_connect(dqlite_node *node, void *counter) {
    return dqlite_node_set_connect_func(node, cdqlite_connect_tcp_nodelay, counter);
}

#endif
