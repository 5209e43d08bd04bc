// No process outlives the daemon: a child's children, including ones that left its process
// group and session with setsid or ignore SIGTERM, are gone once the daemon stopped, whether
// it was stopped with SIGTERM or killed with SIGKILL, and when one process is stopped alone.
// The sleeps carry durations unique to this test run, so they are found by their command line.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/daemon_process.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

namespace {

// Live (not zombie) processes whose command line is "sleep SECONDS".
std::vector<pid_t> sleeps_of(long seconds) {
    std::vector<pid_t> found;
    const std::string wanted = "sleep" + std::string(1, '\0') + std::to_string(seconds) + std::string(1, '\0');
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream file(entry.path() / "cmdline", std::ios::binary);
        std::string cmdline((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        const auto slash = cmdline.rfind('/', cmdline.find('\0'));
        if (slash != std::string::npos) cmdline.erase(0, slash + 1);  // /usr/bin/sleep
        const pid_t pid = std::stoi(name);
        if (cmdline == wanted && process_alive(pid)) found.push_back(pid);
    }
    return found;
}

// A config whose three processes leave sleeps of their own behind, each with a unique duration:
// a shell's background child (same process group), a child in a new session (setsid), and a
// child in a new session that ignores SIGTERM.
struct family {
    long base = 400000 + static_cast<long>(::getpid() % 20000) * 5;
    long forked() const { return base; }
    long detached() const { return base + 1; }
    long stubborn() const { return base + 2; }
    std::vector<long> all() const { return {forked(), detached(), stubborn()}; }

    std::string toml() const {
        return "[supervisor]\nstop_grace_seconds = 2.0\n"
               "[[processes]]\nname = \"forker\"\ncommand = \"/bin/bash\"\nargs = [\"-c\", \"sleep " +
               std::to_string(forked()) + " & wait\"]\n"
               "[[processes]]\nname = \"detacher\"\ncommand = \"/bin/bash\"\nargs = [\"-c\", \"setsid sleep " +
               std::to_string(detached()) + " & wait\"]\n"
               "[[processes]]\nname = \"stubborn\"\ncommand = \"/bin/bash\"\nargs = [\"-c\", \"setsid bash -c "
               "'trap \\\"\\\" TERM; exec sleep " +
               std::to_string(stubborn()) + "' & wait\"]\n";
    }

    bool all_running() const {
        for (long seconds : all())
            if (sleeps_of(seconds).size() != 1) return false;
        return true;
    }
    bool none_running() const {
        for (long seconds : all())
            if (!sleeps_of(seconds).empty()) return false;
        return true;
    }
};

}  // namespace

TEST_CASE("no descendant outlives a daemon stopped with SIGTERM", "[descendants]") {
    family f;
    daemon_process daemon(f.toml());
    REQUIRE(wait_until([&] { return f.all_running(); }, 10s));
    // The pid shown is the command's own (a shell here), not the reaper's it runs under.
    for (pid_t pid : daemon.child_pids()) {
        std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
        std::string name;
        comm >> name;
        CHECK(name == "bash");
    }

    REQUIRE(::kill(daemon.pid(), SIGTERM) == 0);
    const int status = daemon.terminate(15s);
    INFO(daemon.log());
    CHECK(WIFEXITED(status));
    // The stubborn one ignores SIGTERM and is killed a grace period later, at the latest.
    CHECK(wait_until([&] { return f.none_running(); }, 5s));
}

TEST_CASE("no descendant outlives a daemon killed with SIGKILL", "[descendants]") {
    family f;
    daemon_process daemon(f.toml());
    REQUIRE(wait_until([&] { return f.all_running(); }, 10s));
    daemon.kill_hard();
    for (long seconds : f.all()) {
        INFO("sleep " << seconds << " left behind");
        CHECK(wait_until([&] { return sleeps_of(seconds).empty(); }, 5s));
    }
}

TEST_CASE("stopping one process reaches the children that left its group", "[descendants]") {
    family f;
    daemon_process daemon(f.toml());
    REQUIRE(wait_until([&] { return f.all_running(); }, 10s));
    REQUIRE(daemon.post("/api/processes/detacher/stop").status == 200);
    REQUIRE(daemon.post("/api/processes/stubborn/stop").status == 200);
    INFO(daemon.log());
    CHECK(wait_until([&] { return sleeps_of(f.detached()).empty() && sleeps_of(f.stubborn()).empty(); }, 5s));
    CHECK(sleeps_of(f.forked()).size() == 1);  // the others are untouched
    CHECK(process_alive(daemon.pid()));
}
