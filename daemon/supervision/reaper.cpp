// See reaper.hpp. Single-threaded: signals are blocked and taken with sigtimedwait.
#include "supervision/reaper.hpp"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "supervision/process_tree.hpp"

namespace orderstream::supervision {
namespace {

// What the reaper waits for. SIGTERM and the others reach it with its command's process group
// (the daemon signals the whole group): it lets the command handle them and waits.
sigset_t watched_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
    return set;
}

// Reaps every child that has exited; true when `main` was one of them (its status in `status`).
bool reap_exited(pid_t main, int& status) {
    bool main_exited = false;
    for (;;) {
        int s = 0;
        pid_t pid = ::waitpid(-1, &s, WNOHANG);
        if (pid <= 0) return main_exited;
        if (pid == main) {
            main_exited = true;
            status = s;
        }
    }
}

// Signals every process below the reaper and reaps them, until none is left or `deadline`.
void stop_descendants(int signal_number, std::chrono::steady_clock::time_point deadline) {
    const sigset_t set = watched_signals();
    for (const auto& entry : descendants(::getpid())) ::kill(entry.pid, signal_number);
    for (;;) {
        int ignored = 0;
        reap_exited(0, ignored);
        if (descendants(::getpid()).empty()) return;
        auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return;
        // Woken by a child's exit, or every 50 ms for a grandchild (not ours to reap) that went.
        timespec wait{0, 50'000'000};
        ::sigtimedwait(&set, nullptr, &wait);
        // Processes re-parented to us since the first signal get it too.
        for (const auto& entry : descendants(::getpid())) ::kill(entry.pid, signal_number);
    }
}

void kill_everything_below() {
    for (int round = 0; round < 100; ++round) {
        stop_descendants(SIGKILL, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
        if (descendants(::getpid()).empty()) break;
    }
    int ignored = 0;
    reap_exited(0, ignored);
}

// Ends the reaper the way its command ended.
[[noreturn]] void exit_like(int status) {
    if (WIFEXITED(status)) std::_Exit(WEXITSTATUS(status));
    const int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);  // the command's core dump, if any, is the one that matters
    ::signal(signal_number, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, signal_number);
    ::sigprocmask(SIG_UNBLOCK, &only, nullptr);
    ::raise(signal_number);
    std::_Exit(128 + signal_number);
}

}  // namespace

std::vector<std::string> reaper_arguments(const std::string& command, const std::vector<std::string>& args) {
    std::vector<std::string> out{reap_command, "--parent", std::to_string(::getpid()), "--", command};
    out.insert(out.end(), args.begin(), args.end());
    return out;
}

int reaper_main(int argc, char** argv) {
    if (argc < 4 || std::string_view(argv[0]) != "--parent" || std::string_view(argv[2]) != "--") {
        std::fprintf(stderr, "orderstream reap: usage: orderstream reap --parent PID -- COMMAND [ARGS...]\n");
        return 2;
    }
    const pid_t parent = static_cast<pid_t>(std::atol(argv[1]));
    char** command = argv + 3;

    const sigset_t set = watched_signals();
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) return 127;  // the daemon died before the parent-death signal was set

    const pid_t reaper = ::getpid();
    const pid_t main = ::fork();
    if (main < 0) {
        std::fprintf(stderr, "orderstream reap: fork: %s\n", std::strerror(errno));
        return 126;
    }
    if (main == 0) {
        // The command: in the reaper's process group, killed if the reaper dies, with the
        // signal mask and dispositions the daemon gave the reaper.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != reaper) std::_Exit(127);  // the reaper died before the signal was set
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execv(command[0], command);
        std::fprintf(stderr, "orderstream reap: cannot run %s: %s\n", command[0], std::strerror(errno));
        std::_Exit(errno == ENOENT ? 127 : 126);
    }

    int status = 0;
    for (;;) {
        siginfo_t info{};
        if (::sigwaitinfo(&set, &info) < 0) continue;  // EINTR
        if (info.si_signo == SIGCHLD) {
            if (reap_exited(main, status)) break;
            continue;
        }
        // Any other signal: the daemon's stop reached the command's group as well. Unless the
        // daemon itself is gone (this is then the parent-death signal): nothing is left to
        // supervise the command, so it and everything below it go now.
        if (::getppid() != parent) {
            kill_everything_below();
            return 128 + SIGKILL;
        }
    }
    // The command is gone: what it left behind gets SIGTERM, then SIGKILL.
    if (!descendants(::getpid()).empty()) {
        stop_descendants(SIGTERM, std::chrono::steady_clock::now() + leftover_grace);
        kill_everything_below();
    }
    exit_like(status);
}

}  // namespace orderstream::supervision
