/* aioshim.c — TEST-ONLY LD_PRELOAD shim for running Debian's arm64 dqlite nodes under qemu-user on an amd64
 * host (scripts/mixed-arch.sh). Never use it outside that test: it is not a real AIO implementation.
 *
 * Why it exists: qemu 7.2's linux-user mode (Debian bookworm's qemu-user-static) does not implement Linux
 * native AIO. io_setup (aarch64 syscall 0) returns ENOSYS. libraft 0.15 needs it: its capability probe and
 * UvWriterInit call io_setup through libc's syscall(), with no fallback, so dqlite_node_create fails, and
 * go-dqlite 1.11.5 then crashes in dqlite_node_destroy(NULL) (SIGSEGV, the real error lost). On real arm64
 * hardware none of this happens; the shim only stands in for the kernel feature qemu lacks.
 *
 * What it does: it overrides libc's syscall() for io_setup, io_destroy, io_submit, io_getevents and
 * io_cancel. io_submit performs each iocb synchronously (pwritev/pwrite/preadv/pread/fsync/fdatasync, plus
 * fdatasync for RWF_DSYNC/RWF_SYNC), queues its io_event, and signals aio_resfd (eventfd) when
 * IOCB_FLAG_RESFD is set, which is how libuv/libraft learn of completions. Every other syscall passes through.
 *
 * Known shortcuts (fine for the test, wrong in general): writes happen inside io_submit (no concurrency, and
 * RWF_NOWAIT is ignored); io_getevents ignores its timeout; io_cancel always fails with EINVAL; the event
 * ring holds max(16, 4 * nr_events) entries.
 *
 * Build (scripts/mixed-arch.sh does this with Debian's gcc-aarch64-linux-gnu):
 *   aarch64-linux-gnu-gcc -O2 -Wall -shared -fPIC -o aioshim.so aioshim.c -ldl -lpthread
 * Use: qemu-aarch64-static -E LD_PRELOAD=/usr/local/lib/aioshim.so -L <arm64 sysroot> <arm64 program>
 * First written for the exploratory run described in the shared notes (mixed-arch.md); this is the
 * repository's own copy. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/aio_abi.h>

struct ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct io_event *ev;
    unsigned cap, head, n;
};

static long (*real_syscall)(long, ...);

static long do_setup(unsigned nr, aio_context_t *ctxp)
{
    struct ctx *c = calloc(1, sizeof *c);
    if (!c) { errno = ENOMEM; return -1; }
    c->cap = nr < 16 ? 16 : nr * 4;
    c->ev = calloc(c->cap, sizeof *c->ev);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    *ctxp = (aio_context_t)(uintptr_t)c;
    return 0;
}

static long one(struct iocb *cb)
{
    long r;
    int flags = cb->aio_rw_flags;
    switch (cb->aio_lio_opcode) {
    case IOCB_CMD_PWRITEV:
        r = pwritev(cb->aio_fildes, (struct iovec *)(uintptr_t)cb->aio_buf, (int)cb->aio_nbytes, (off_t)cb->aio_offset);
        break;
    case IOCB_CMD_PWRITE:
        r = pwrite(cb->aio_fildes, (void *)(uintptr_t)cb->aio_buf, cb->aio_nbytes, (off_t)cb->aio_offset);
        break;
    case IOCB_CMD_PREADV:
        r = preadv(cb->aio_fildes, (struct iovec *)(uintptr_t)cb->aio_buf, (int)cb->aio_nbytes, (off_t)cb->aio_offset);
        flags = 0;
        break;
    case IOCB_CMD_PREAD:
        r = pread(cb->aio_fildes, (void *)(uintptr_t)cb->aio_buf, cb->aio_nbytes, (off_t)cb->aio_offset);
        flags = 0;
        break;
    case IOCB_CMD_FSYNC: r = fsync(cb->aio_fildes); flags = 0; break;
    case IOCB_CMD_FDSYNC: r = fdatasync(cb->aio_fildes); flags = 0; break;
    default: errno = EINVAL; r = -1;
    }
    if (r < 0) return -errno;
#ifdef RWF_DSYNC
    if (flags & (RWF_DSYNC | RWF_SYNC)) { if (fdatasync(cb->aio_fildes) != 0) return -errno; }
#endif
    return r;
}

static long do_submit(aio_context_t id, long n, struct iocb **cbs)
{
    struct ctx *c = (struct ctx *)(uintptr_t)id;
    long i;
    for (i = 0; i < n; i++) {
        struct iocb *cb = cbs[i];
        struct io_event e;
        e.data = cb->aio_data;
        e.obj = (uint64_t)(uintptr_t)cb;
        e.res = one(cb);
        e.res2 = 0;
        pthread_mutex_lock(&c->mu);
        if (c->n == c->cap) { pthread_mutex_unlock(&c->mu); if (i == 0) { errno = EAGAIN; return -1; } return i; }
        c->ev[(c->head + c->n) % c->cap] = e;
        c->n++;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        if (cb->aio_flags & IOCB_FLAG_RESFD) {
            uint64_t one1 = 1;
            (void)!write(cb->aio_resfd, &one1, sizeof one1);
        }
    }
    return n;
}

static long do_getevents(aio_context_t id, long min_nr, long nr, struct io_event *out)
{
    struct ctx *c = (struct ctx *)(uintptr_t)id;
    long k = 0;
    pthread_mutex_lock(&c->mu);
    while ((long)c->n < min_nr) pthread_cond_wait(&c->cv, &c->mu); /* timeout ignored */
    while (k < nr && c->n > 0) {
        out[k++] = c->ev[c->head];
        c->head = (c->head + 1) % c->cap;
        c->n--;
    }
    pthread_mutex_unlock(&c->mu);
    return k;
}

long syscall(long no, ...)
{
    va_list ap;
    long a[6];
    int i;
    va_start(ap, no);
    for (i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    switch (no) {
    case SYS_io_setup: return do_setup((unsigned)a[0], (aio_context_t *)a[1]);
    case SYS_io_destroy: {
        struct ctx *c = (struct ctx *)(uintptr_t)a[0];
        if (c) { free(c->ev); free(c); }
        return 0;
    }
    case SYS_io_submit: return do_submit((aio_context_t)a[0], a[1], (struct iocb **)a[2]);
    case SYS_io_getevents: return do_getevents((aio_context_t)a[0], a[1], a[2], (struct io_event *)a[3]);
    case SYS_io_cancel: errno = EINVAL; return -1;
    }
    if (!real_syscall) real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real_syscall(no, a[0], a[1], a[2], a[3], a[4], a[5]);
}
