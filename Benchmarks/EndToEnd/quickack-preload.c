// Diagnostic for scripts/bench-e2e.sh (DIAGNOSTICS=1), not part of any build: an LD_PRELOAD shim that re-arms
// TCP_QUICKACK on a TCP socket before each read(2)/readv(2)/recvmsg(2), so that the client ACKs every segment at
// once instead of delaying its ACKs. The dqlite 1.11.1 server does not set TCP_NODELAY, so with Nagle on its
// side and delayed ACKs on ours, a streamed result stalls for up to 40 ms at a time (docs/benchmarks.md,
// "End-to-end"). It lets the benchmark measure what the Swift client would gain from doing the same thing
// itself; it does not apply to the Go side (a static Go binary makes its own system calls).
//
//   cc -O2 -shared -fPIC -o quickack-preload.so quickack-preload.c -ldl
//   LD_PRELOAD=$PWD/quickack-preload.so dqlite-e2e --workload scan …
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static void quickack(int fd) {
    int one = 1;
    // Fails harmlessly (ENOTSOCK, EOPNOTSUPP) on anything but a TCP socket.
    (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

ssize_t read(int fd, void *buf, size_t count) {
    static ssize_t (*real)(int, void *, size_t);
    if (!real) real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    quickack(fd);
    return real(fd, buf, count);
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt) {
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real) real = (ssize_t (*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "readv");
    quickack(fd);
    return real(fd, iov, iovcnt);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    static ssize_t (*real)(int, struct msghdr *, int);
    if (!real) real = (ssize_t (*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
    quickack(fd);
    return real(fd, msg, flags);
}
