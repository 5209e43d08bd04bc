/* The capture benchmark's floor: the least any supervisor must do to take a child's output.
 * Runs COMMAND with its stdout on a pipe, reads it in 64 KiB chunks and counts lines with memchr
 * (no timestamps, no storage, no UTF-8 check), then writes "lines=N" to FILE and waits to be
 * killed, so the harness can read its CPU time from /proc as it does for the supervisors.
 *
 *   bare_reader --stats FILE COMMAND [ARGS...] */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 4 || strcmp(argv[1], "--stats") != 0) {
        fprintf(stderr, "usage: bare_reader --stats FILE COMMAND [ARGS...]\n");
        return 2;
    }
    int fds[2];
    if (pipe(fds) != 0) return perror("pipe"), 1;
    pid_t child = fork();
    if (child < 0) return perror("fork"), 1;
    if (child == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[3], argv + 3);
        perror("exec");
        _exit(127);
    }
    close(fds[1]);
    static char buffer[64 * 1024];
    long long lines = 0;
    for (;;) {
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n < 0) continue;  /* EINTR */
        if (n == 0) break;
        for (const char* at = buffer; (at = memchr(at, '\n', (size_t)(buffer + n - at))) != NULL; ++at) ++lines;
    }
    waitpid(child, NULL, 0);
    FILE* stats = fopen(argv[2], "w");
    if (!stats) return perror("stats"), 1;
    fprintf(stats, "lines=%lld\n", lines);
    fclose(stats);
    pause(); /* until the harness has read its CPU time and stops it */
    return 0;
}
