/* The benchmarks' child: prints numbered 100-byte lines to stdout as fast as it can and times
 * every write(), so a supervisor that stops reading shows up as a long write.
 *
 *   printer --lines N [--wait FILE] [--pre-lines N --pre-wait FILE] [--marker TEXT]
 *           [--checkpoint N --checkpoint-wait FILE] [--stats FILE] [--sleep SECONDS] [--chunk BYTES]
 *
 * --pre-lines/--pre-wait: print N lines once FILE exists (fills a ring), then go on to --wait.
 * --wait: start the main run only once FILE exists (so the supervisor is idle and measured first).
 * --marker: a last, unique line after the N lines (also padded to 100 bytes).
 * --checkpoint: after line N of the main run print "CHECKPOINT" and wait for FILE (a pause in
 *   which the harness reads the supervisor's memory), then go on.
 * --stats: key=value lines (start/end wall-clock time, longest write, writes over 10 ms).
 * --sleep: stay alive that long afterwards (an idle child whose lines stay in the ring).
 * Writes go out in chunks of whole lines (default 8 KiB, like stdio on a pipe). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 100 /* 99 visible characters and '\n' */

static double now(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct stats {
    double max_write_seconds;
    long slow_writes; /* writes that took over 10 ms */
    long writes;
    long long bytes;
};

static void write_all(const char* data, size_t size, struct stats* s) {
    while (size > 0) {
        double t0 = now(CLOCK_MONOTONIC);
        ssize_t n = write(STDOUT_FILENO, data, size);
        double dt = now(CLOCK_MONOTONIC) - t0;
        if (n < 0) {
            if (errno == EINTR) continue;
            _exit(3); /* the reader is gone: nothing left to measure */
        }
        s->writes++;
        s->bytes += n;
        if (dt > s->max_write_seconds) s->max_write_seconds = dt;
        if (dt > 0.010) s->slow_writes++;
        data += n;
        size -= (size_t)n;
    }
}

static void wait_for(const char* path) {
    if (!path) return;
    /* Bounded: the harness creates the file within seconds, or it has given up. */
    for (int i = 0; i < 120000 && access(path, F_OK) != 0; i++) usleep(1000);
}

static void fill_line(char* line, long number) {
    /* "line 0000000042 " then a fixed filler; the number is written in place, no printf. */
    char* digits = line + 5;
    for (int i = 9; i >= 0; i--) {
        digits[i] = (char)('0' + number % 10);
        number /= 10;
    }
}

static void print_lines(long first, long count, struct stats* s, size_t chunk) {
    static const char filler[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz";
    char line[LINE_BYTES];
    memcpy(line, "line ", 5);
    line[15] = ' ';
    memcpy(line + 16, filler, LINE_BYTES - 17);
    line[LINE_BYTES - 1] = '\n';

    size_t per_chunk = chunk / LINE_BYTES ? chunk / LINE_BYTES : 1;
    char* buffer = malloc(per_chunk * LINE_BYTES);
    if (!buffer) _exit(4);
    size_t used = 0;
    for (long i = first; i < first + count; i++) {
        fill_line(line, i);
        memcpy(buffer + used, line, LINE_BYTES);
        used += LINE_BYTES;
        if (used == per_chunk * LINE_BYTES) {
            write_all(buffer, used, s);
            used = 0;
        }
    }
    if (used) write_all(buffer, used, s);
    free(buffer);
}

static void print_marker(const char* marker, struct stats* s) {
    char line[LINE_BYTES];
    memset(line, '.', sizeof line);
    size_t n = strlen(marker);
    if (n > LINE_BYTES - 2) n = LINE_BYTES - 2;
    memcpy(line, marker, n);
    line[n] = ' ';
    line[LINE_BYTES - 1] = '\n';
    write_all(line, sizeof line, s);
}

int main(int argc, char** argv) {
    long lines = 0, pre_lines = 0, checkpoint = 0;
    const char *wait = NULL, *pre_wait = NULL, *checkpoint_wait = NULL, *marker = NULL, *stats_path = NULL;
    double sleep_seconds = 0;
    size_t chunk = 8192;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *key = argv[i], *value = argv[i + 1];
        if (!strcmp(key, "--lines")) lines = atol(value);
        else if (!strcmp(key, "--pre-lines")) pre_lines = atol(value);
        else if (!strcmp(key, "--wait")) wait = value;
        else if (!strcmp(key, "--pre-wait")) pre_wait = value;
        else if (!strcmp(key, "--marker")) marker = value;
        else if (!strcmp(key, "--checkpoint")) checkpoint = atol(value);
        else if (!strcmp(key, "--checkpoint-wait")) checkpoint_wait = value;
        else if (!strcmp(key, "--stats")) stats_path = value;
        else if (!strcmp(key, "--sleep")) sleep_seconds = atof(value);
        else if (!strcmp(key, "--chunk")) chunk = (size_t)atol(value);
        else {
            fprintf(stderr, "printer: unknown option %s\n", key);
            return 2;
        }
    }
    if (argc % 2 == 0) {
        fprintf(stderr, "printer: every option takes a value\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    struct stats s = {0};
    if (pre_lines > 0) {
        wait_for(pre_wait);
        print_lines(1, pre_lines, &s, chunk);
        s = (struct stats){0}; /* the fill is not part of the measured run */
    }
    wait_for(wait);
    double start_wall = now(CLOCK_REALTIME), start = now(CLOCK_MONOTONIC);
    if (checkpoint > 0 && checkpoint < lines) {
        print_lines(1, checkpoint, &s, chunk);
        print_marker("CHECKPOINT", &s);
        wait_for(checkpoint_wait);
        print_lines(checkpoint + 1, lines - checkpoint, &s, chunk);
    } else {
        print_lines(1, lines, &s, chunk);
    }
    if (marker) print_marker(marker, &s);
    double elapsed = now(CLOCK_MONOTONIC) - start;

    if (stats_path) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", stats_path);
        FILE* f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "start_wall=%.6f\nwrite_seconds=%.6f\nmax_write_ms=%.3f\nslow_writes=%ld\n"
                       "writes=%ld\nbytes=%lld\n",
                    start_wall, elapsed, s.max_write_seconds * 1000, s.slow_writes, s.writes, s.bytes);
            fclose(f);
            rename(tmp, stats_path); /* the harness never reads half a file */
        }
    }
    if (sleep_seconds > 0) {
        struct timespec ts = {(time_t)sleep_seconds, 0};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    return 0;
}
