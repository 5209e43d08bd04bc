/* The fan-out benchmark's clients: N Server-Sent Events connections to orderstream's /api/stream
 * on one epoll loop (one thread), checking that each client gets every line exactly once and
 * timing each line from its print (the CLOCK_REALTIME ns that bench/ticker.c wrote into it) to
 * its receipt.
 *
 *   sse_clients --port P --clients N --ready FILE --stop FILE --out FILE [--timeout SECONDS]
 *
 * --ready: written ("connected=C refused=R") once every connection got its response head.
 * --stop: the harness writes "FIRST LAST" there once the tickers are done: the clients then wait
 *   (up to 10 s) until each has every sequence number in FIRST+1..LAST, and write --out (JSON).
 * Per client: a bitmap of the sequence numbers of the `lines` events it received (duplicates and
 * gaps), `missed` events (the daemon says the client fell behind its rings). For all clients:
 * a histogram of print-to-receipt delays (10 us buckets up to 20 s) and this program's own CPU. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKET_NS 10000LL
#define BUCKETS 2000000 /* 20 s */
#define MAX_PENDING 64  /* connections being opened at once (the listen backlog stays small) */
#define READ_CHUNK 65536

enum state { IDLE, CONNECTING, HEAD, STREAM, CLOSED };

struct client {
    int fd;
    enum state state;
    char* buf;
    size_t len, cap, scanned;
    uint8_t* seen; /* bitmap of sequence numbers */
    uint64_t seen_cap;
    uint64_t lines, ticks, dups, missed_events, max_seq;
    int refused;
};

static uint32_t* histogram;
static uint64_t dup_examples[8], gap_examples[8];
static int dup_example_count, gap_example_count;
static uint64_t overflow, samples;
static long long max_delay_ns = 0, first_recv_ns = 0, last_recv_ns = 0;

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void* xrealloc(void* p, size_t n) {
    void* q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "sse_clients: out of memory\n");
        exit(1);
    }
    return q;
}

static void mark(struct client* c, uint64_t seq) {
    if (seq >= c->seen_cap) {
        uint64_t cap = c->seen_cap ? c->seen_cap : 65536;
        while (cap <= seq) cap *= 2;
        c->seen = xrealloc(c->seen, cap / 8);
        memset(c->seen + c->seen_cap / 8, 0, (cap - c->seen_cap) / 8);
        c->seen_cap = cap;
    }
    uint8_t bit = (uint8_t)(1u << (seq & 7));
    if (c->seen[seq >> 3] & bit) {
        c->dups++;
        if (dup_example_count < 8) dup_examples[dup_example_count++] = seq;
    }
    c->seen[seq >> 3] |= bit;
    if (seq > c->max_seq) c->max_seq = seq;
}

static uint64_t parse_u64(const char** p, const char* end) {
    uint64_t v = 0;
    while (*p < end && **p >= '0' && **p <= '9') v = v * 10 + (uint64_t)(*(*p)++ - '0');
    return v;
}

/* One `lines` event's data: {"instance":…,"seq":S,"terminals":{"t1":[{"seq":N,"timestamp":"…",
 * "line":"TICK K N NS …"},…],…},"dropped":{…},"missed":[…]} */
static void on_lines(struct client* c, const char* p, const char* end, long long recv_ns) {
    static const char entry[] = "{\"seq\":";
    static const char line_key[] = ",\"line\":\"";
    const char* data = p;
    for (;;) {
        const char* e = memmem(p, (size_t)(end - p), entry, sizeof entry - 1);
        if (!e) break;
        p = e + sizeof entry - 1;
        uint64_t seq = parse_u64(&p, end);
        mark(c, seq);
        c->lines++;
        const char* l = memmem(p, (size_t)(end - p), line_key, sizeof line_key - 1);
        if (!l) break;
        p = l + sizeof line_key - 1;
        if (end - p > 5 && !memcmp(p, "TICK ", 5)) {
            p += 5;
            parse_u64(&p, end); /* ticker id */
            p++;
            parse_u64(&p, end); /* its line number */
            p++;
            long long printed = (long long)parse_u64(&p, end);
            long long d = recv_ns - printed;
            if (d < 0) d = 0;
            if (d / BUCKET_NS < BUCKETS) histogram[d / BUCKET_NS]++;
            else overflow++;
            if (d > max_delay_ns) max_delay_ns = d;
            samples++;
            c->ticks++;
        }
    }
    const char* m = memmem(data, (size_t)(end - data), "\"missed\":[", 10);
    if (m && m + 10 < end && m[10] != ']') c->missed_events++;
}

static void on_event(struct client* c, const char* p, const char* end, long long recv_ns) {
    /* field lines: "id: N", "event: NAME", "data: …" */
    int is_lines = 0;
    const char* data = NULL;
    while (p < end) {
        const char* nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        if (nl - p == 12 && !memcmp(p, "event: lines", 12)) is_lines = 1;
        else if (nl - p > 6 && !memcmp(p, "data: ", 6)) data = p + 6;
        if (data && is_lines) {
            const char* dend = memchr(data, '\n', (size_t)(end - data));
            on_lines(c, data, dend ? dend : end, recv_ns);
            return;
        }
        p = nl + 1;
    }
}

static void close_client(int ep, struct client* c, int* open_count) {
    if (c->state == CLOSED || c->state == IDLE) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = CLOSED;
    (*open_count)--;
}

static int start_connect(int ep, struct client* c, int port) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr*)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        return -1;
    }
    c->state = CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

int main(int argc, char** argv) {
    int port = 0, n = 0;
    double timeout = 300;
    const char *ready_file = NULL, *stop_file = NULL, *out_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--clients")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ready")) ready_file = argv[i + 1];
        else if (!strcmp(argv[i], "--stop")) stop_file = argv[i + 1];
        else if (!strcmp(argv[i], "--out")) out_file = argv[i + 1];
        else if (!strcmp(argv[i], "--timeout")) timeout = atof(argv[i + 1]);
        else {
            fprintf(stderr, "sse_clients: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (port <= 0 || n <= 0 || !ready_file || !stop_file || !out_file) {
        fprintf(stderr, "usage: sse_clients --port P --clients N --ready FILE --stop FILE --out FILE\n");
        return 2;
    }
    histogram = calloc(BUCKETS, sizeof *histogram);
    struct client* clients = calloc((size_t)n, sizeof *clients);
    if (!histogram || !clients) return 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    char request[256];
    int request_len = snprintf(request, sizeof request,
                               "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n\r\n",
                               port);
    const long long deadline = now_ns(CLOCK_MONOTONIC) + (long long)(timeout * 1e9);
    long long stop_deadline = 0;
    uint64_t first = 0, last = 0;
    int next = 0, opening = 0, open_count = 0, headed = 0, refused = 0, ready_written = 0, stop_seen = 0;
    char* chunk = malloc(READ_CHUNK);
    struct epoll_event events[256];

    while (now_ns(CLOCK_MONOTONIC) < deadline) {
        while (next < n && opening < MAX_PENDING) {
            struct client* c = &clients[next++];
            if (start_connect(ep, c, port) == 0) {
                opening++;
                open_count++;
            } else {
                c->refused = 1;
                refused++;
            }
        }
        if (!ready_written && next == n && opening == 0) {
            FILE* f = fopen(ready_file, "w");
            if (f) {
                fprintf(f, "connected=%d refused=%d\n", headed, refused);
                fclose(f);
            }
            ready_written = 1;
        }
        if (ready_written && !stop_seen) {
            FILE* f = fopen(stop_file, "r");
            if (f) {
                unsigned long long a, b;
                if (fscanf(f, "%llu %llu", &a, &b) == 2) {
                    first = a;
                    last = b;
                    stop_seen = 1;
                    stop_deadline = now_ns(CLOCK_MONOTONIC) + 10000000000LL;
                }
                fclose(f);
            }
        }
        if (stop_seen) {
            int behind = 0;
            for (int i = 0; i < n; i++)
                if (clients[i].state == STREAM && clients[i].max_seq < last) behind++;
            if (!behind || now_ns(CLOCK_MONOTONIC) > stop_deadline) break;
        }
        int k = epoll_wait(ep, events, 256, 50);
        long long recv_ns = now_ns(CLOCK_REALTIME);
        for (int j = 0; j < k; j++) {
            struct client* c = events[j].data.ptr;
            if (c->state == CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err || write(c->fd, request, (size_t)request_len) != request_len) {
                    close_client(ep, c, &open_count);
                    c->refused = 1;
                    refused++;
                    opening--;
                    continue;
                }
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->state = HEAD;
                continue;
            }
            for (;;) {
                ssize_t got = read(c->fd, chunk, READ_CHUNK);
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                    if (c->state == HEAD) {
                        c->refused = 1;
                        refused++;
                        opening--;
                    }
                    close_client(ep, c, &open_count);
                    break;
                }
                if (got < 0) break;
                if (c->len + (size_t)got + 1 > c->cap) {
                    c->cap = (c->len + (size_t)got + 1) * 2;
                    c->buf = xrealloc(c->buf, c->cap);
                }
                memcpy(c->buf + c->len, chunk, (size_t)got);
                c->len += (size_t)got;
                if (c->state == HEAD) {
                    char* h = memmem(c->buf, c->len, "\r\n\r\n", 4);
                    if (!h) continue;
                    opening--;
                    if (c->len < 12 || memcmp(c->buf + 9, "200", 3) != 0) {
                        c->refused = 1;
                        refused++;
                        close_client(ep, c, &open_count);
                        break;
                    }
                    headed++;
                    c->state = STREAM;
                    size_t body = (size_t)(h + 4 - c->buf);
                    memmove(c->buf, c->buf + body, c->len - body);
                    c->len -= body;
                    c->scanned = 0;
                }
                /* whole events end with an empty line */
                size_t start = 0;
                for (;;) {
                    size_t from = c->scanned > start + 1 ? c->scanned - 1 : start;
                    char* e = c->len > from ? memmem(c->buf + from, c->len - from, "\n\n", 2) : NULL;
                    if (!e) {
                        c->scanned = c->len;
                        break;
                    }
                    if (!first_recv_ns) first_recv_ns = recv_ns;
                    on_event(c, c->buf + start, e, recv_ns);
                    start = (size_t)(e + 2 - c->buf);
                    c->scanned = start;
                }
                if (start) {
                    memmove(c->buf, c->buf + start, c->len - start);
                    c->len -= start;
                    c->scanned -= start;
                }
                if ((size_t)got < READ_CHUNK) break;
            }
        }
        if (k > 0) last_recv_ns = recv_ns;
    }

    /* results */
    uint64_t complete = 0, with_gaps = 0, with_dups = 0, gaps = 0, dups = 0, missed = 0, closed = 0;
    uint64_t lines = 0, ticks = 0, min_ticks = UINT64_MAX, max_ticks = 0;
    for (int i = 0; i < n; i++) {
        struct client* c = &clients[i];
        if (c->refused) continue;
        if (c->state == CLOSED) closed++;
        uint64_t g = 0;
        for (uint64_t s = first + 1; s <= last; s++)
            if (s >= c->seen_cap || !(c->seen[s >> 3] & (1u << (s & 7)))) {
                g++;
                if (gap_example_count < 8) gap_examples[gap_example_count++] = s;
            }
        gaps += g;
        dups += c->dups;
        missed += c->missed_events;
        lines += c->lines;
        ticks += c->ticks;
        if (c->ticks < min_ticks) min_ticks = c->ticks;
        if (c->ticks > max_ticks) max_ticks = c->ticks;
        if (g) with_gaps++;
        if (c->dups) with_dups++;
        if (!g && !c->dups && c->state == STREAM) complete++;
    }
    if (min_ticks == UINT64_MAX) min_ticks = 0;
    double pct[4] = {0.50, 0.99, 0.999, 1.0};
    double at[4] = {0, 0, 0, 0};
    uint64_t target[4], seen = 0;
    for (int q = 0; q < 4; q++) target[q] = (uint64_t)((double)samples * pct[q] + 0.999999);
    int q = 0;
    for (long b = 0; b < BUCKETS && q < 4; b++) {
        seen += histogram[b];
        while (q < 4 && samples && seen >= target[q]) at[q++] = (double)(b + 1) * BUCKET_NS / 1e6;
    }
    while (q < 4) at[q++] = (double)max_delay_ns / 1e6; /* in the overflow bucket */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    FILE* f = fopen(out_file, "w");
    if (!f) return 1;
    fprintf(f,
            "{\"clients\":%d,\"connected\":%d,\"refused\":%d,\"closed_early\":%llu,\"complete\":%llu,"
            "\"with_gaps\":%llu,\"with_dups\":%llu,\"gaps\":%llu,\"dups\":%llu,\"missed_events\":%llu,"
            "\"lines\":%llu,\"ticks\":%llu,\"min_ticks\":%llu,\"max_ticks\":%llu,\"expected_lines\":%llu,"
            "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"samples\":%llu,"
            "\"first_recv_ns\":%lld,\"last_recv_ns\":%lld,\"cpu_s\":%.3f,\"max_rss_kb\":%ld,\"stop_seen\":%d}\n",
            n, headed, refused, (unsigned long long)closed, (unsigned long long)complete,
            (unsigned long long)with_gaps, (unsigned long long)with_dups, (unsigned long long)gaps,
            (unsigned long long)dups, (unsigned long long)missed, (unsigned long long)lines,
            (unsigned long long)ticks, (unsigned long long)min_ticks, (unsigned long long)max_ticks,
            (unsigned long long)(last - first), at[0], at[1], at[2], (double)max_delay_ns / 1e6,
            (unsigned long long)samples, first_recv_ns, last_recv_ns, cpu, ru.ru_maxrss, stop_seen);
    /* a few examples, to tell a daemon's mistake from a client's */
    fseek(f, -2, SEEK_CUR); /* over "}\n" */
    fprintf(f, ",\"dup_examples\":[");
    for (int i = 0; i < dup_example_count; i++) fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)dup_examples[i]);
    fprintf(f, "],\"gap_examples\":[");
    for (int i = 0; i < gap_example_count; i++) fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)gap_examples[i]);
    fprintf(f, "]}\n");
    fclose(f);
    return 0;
}
