/* The fan-out benchmark's child: prints one line every 1/RATE s on a fixed schedule, each line
 * carrying the CLOCK_REALTIME nanoseconds at which it was written, so that a stream client can
 * tell how long the line took from print to receipt.
 *
 *   ticker --id K --rate R --seconds S [--wait FILE] [--stats FILE] [--sleep SECONDS]
 *
 * Line: "TICK K N NS " padded with '.' to 100 bytes (99 visible characters and '\n'), N counting
 * from 1. Each line is its own write(), as an interactive program's line-buffered stdout does.
 * --wait: start only once FILE exists (so every client is connected first).
 * --stats: key=value lines (lines printed, first/last print time, how late the schedule ran).
 * --sleep: stay alive that long afterwards. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 100

static long long ns_of(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void write_all(const char* data, size_t size) {
    while (size > 0) {
        ssize_t n = write(STDOUT_FILENO, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            _exit(3); /* the reader is gone */
        }
        data += n;
        size -= (size_t)n;
    }
}

int main(int argc, char** argv) {
    long id = 1, rate = 250;
    double seconds = 10, sleep_after = 0;
    const char *wait_file = NULL, *stats_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char* next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!next) {
            fprintf(stderr, "ticker: %s needs a value\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--id")) id = atol(next);
        else if (!strcmp(argv[i], "--rate")) rate = atol(next);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(next);
        else if (!strcmp(argv[i], "--wait")) wait_file = next;
        else if (!strcmp(argv[i], "--stats")) stats_file = next;
        else if (!strcmp(argv[i], "--sleep")) sleep_after = atof(next);
        else {
            fprintf(stderr, "ticker: unknown option %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    if (rate <= 0 || rate > 100000 || seconds <= 0) {
        fprintf(stderr, "ticker: --rate must be 1..100000 and --seconds > 0\n");
        return 2;
    }
    /* Bounded: the harness creates the file within seconds, or it has given up. */
    for (int i = 0; wait_file && i < 300000 && access(wait_file, F_OK) != 0; i++) usleep(1000);

    const long long period = 1000000000LL / rate;
    const long total = (long)(seconds * (double)rate);
    long long next = ns_of(CLOCK_MONOTONIC);
    long long first_ns = 0, last_ns = 0, max_late_ns = 0;
    char line[LINE_BYTES + 1];
    for (long n = 1; n <= total; n++) {
        struct timespec at = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
        }
        long long late = ns_of(CLOCK_MONOTONIC) - next;
        if (late > max_late_ns) max_late_ns = late;
        long long now = ns_of(CLOCK_REALTIME);
        int len = snprintf(line, sizeof line, "TICK %ld %ld %lld ", id, n, now);
        memset(line + len, '.', LINE_BYTES - 1 - len);
        line[LINE_BYTES - 1] = '\n';
        write_all(line, LINE_BYTES);
        if (n == 1) first_ns = now;
        last_ns = now;
        next += period;
    }
    if (stats_file) {
        FILE* f = fopen(stats_file, "w");
        if (f) {
            fprintf(f, "lines=%ld\nfirst_ns=%lld\nlast_ns=%lld\nmax_late_ms=%.3f\n", total, first_ns, last_ns,
                    (double)max_late_ns / 1e6);
            fclose(f);
        }
    }
    if (sleep_after > 0) {
        struct timespec ts = {(time_t)sleep_after, 0};
        nanosleep(&ts, NULL);
    }
    return 0;
}
