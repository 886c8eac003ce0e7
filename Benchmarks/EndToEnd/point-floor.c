// The floor for sequential point selects: the fastest any client can go against a given dqlite node.
//
// A single-threaded C client with blocking sockets and no framework: it writes one QUERY_SQL
// ("SELECT v FROM t10k WHERE id = ?" with a random id) and reads the ROWS answer, in a loop, on one
// connection. What is left is the server's work and the kernel's loopback round trip. A real client can
// only add to this, so it bounds what "point selects at N × go-dqlite's rate" can mean on this machine.
//
//   cc -O2 -o point-floor point-floor.c && ./point-floor 127.0.0.1:9001 bench 5
//
// Arguments: the node, the database (it must hold t10k, as scripts/bench-e2e.sh creates it), seconds.
// Prints one JSON line: {"workload":"point-floor","ops":…,"ops_per_s":…,"p50_us":…,"p99_us":…}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) die("write");
        p += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) die("read");
        p += r;
        n -= (size_t)r;
    }
}

// Appends a NUL-terminated, 8-byte padded text at `off`; returns the new offset.
static size_t put_text(uint8_t *body, size_t off, const char *text) {
    size_t len = strlen(text) + 1;
    size_t padded = (len + 7) & ~(size_t)7;
    memset(body + off, 0, padded);
    memcpy(body + off, text, len - 1);
    return off + padded;
}

// Sends one request (header + body) and reads one answer into `answer`; returns its type.
static uint8_t roundtrip(int fd, uint8_t type, const uint8_t *body, size_t len, uint8_t *answer, size_t cap) {
    uint8_t header[8] = {0};
    uint32_t words = (uint32_t)(len / 8);
    header[0] = (uint8_t)words;
    header[1] = (uint8_t)(words >> 8);
    header[2] = (uint8_t)(words >> 16);
    header[3] = (uint8_t)(words >> 24);
    header[4] = type;
    uint8_t frame[512];
    memcpy(frame, header, 8);
    memcpy(frame + 8, body, len);
    write_all(fd, frame, 8 + len);
    uint8_t in[8];
    read_all(fd, in, 8);
    size_t size = 8 * ((size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16 | (size_t)in[3] << 24);
    if (size > cap) {
        fprintf(stderr, "answer of %zu bytes is larger than expected\n", size);
        exit(1);
    }
    read_all(fd, answer, size);
    return in[4];
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST:PORT DATABASE SECONDS\n", argv[0]);
        return 2;
    }
    char host[64];
    const char *colon = strrchr(argv[1], ':');
    if (!colon || (size_t)(colon - argv[1]) >= sizeof host) return 2;
    memcpy(host, argv[1], (size_t)(colon - argv[1]));
    host[colon - argv[1]] = 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return 2;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    uint8_t handshake[8];
    put64(handshake, 1);
    write_all(fd, handshake, 8);

    uint8_t body[256], answer[65536];
    size_t off = put_text(body, 0, argv[2]);
    put64(body + off, 0);  // flags
    off += 8;
    off = put_text(body, off, "volatile");
    if (roundtrip(fd, 3, body, off, answer, sizeof answer) != 4) {
        fprintf(stderr, "OPEN failed\n");
        return 1;
    }
    uint32_t db = (uint32_t)get64(answer);

    double seconds = atof(argv[3]);
    size_t cap = 1 << 22, count = 0;
    double *lat = malloc(cap * sizeof *lat);
    if (!lat) return 1;
    srand(42);
    double start = now_us(), end = start + seconds * 1e6;
    while (now_us() < end && count < cap) {
        size_t o = 0;
        put64(body, db);
        o = put_text(body, 8, "SELECT v FROM t10k WHERE id = ?");
        memset(body + o, 0, 8);
        body[o] = 1;      // one parameter
        body[o + 1] = 1;  // INTEGER
        o += 8;
        put64(body + o, (uint64_t)(1 + rand() % 10000));
        o += 8;
        double t0 = now_us();
        uint8_t type = roundtrip(fd, 9, body, o, answer, sizeof answer);
        lat[count++] = now_us() - t0;
        if (type != 7) {
            fprintf(stderr, "QUERY_SQL answered with type %u (a FAILURE: is there a t10k table?)\n", type);
            return 1;
        }
    }
    double elapsed = (now_us() - start) / 1e6;
    qsort(lat, count, sizeof *lat, compare);
    printf("{\"workload\":\"point-floor\",\"ops\":%zu,\"ops_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", count,
           (double)count / elapsed, lat[count / 2], lat[(size_t)(count * 0.99)]);
    close(fd);
    free(lat);
    return 0;
}
