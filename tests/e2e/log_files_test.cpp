// Output on disk (capture.log_dir): each terminal's file, its download, size rotation, and the
// last lines of a stopped daemon back on the page of the next one, marked as such.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support/daemon_process.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

namespace {

std::string config(const std::filesystem::path& dir, const std::string& script, const std::string& capture_extra = "") {
    return "[capture]\nlog_dir = \"" + dir.string() + "\"\n" + capture_extra +
           "[[processes]]\nname = \"talker\"\ncommand = \"/bin/sh\"\nargs = [\"-c\", \"" + script + "\"]\n";
}

// The talker terminal's lines, oldest first.
std::vector<std::string> lines_of(const daemon_process& daemon) {
    std::vector<std::string> lines;
    const auto outputs = daemon.get("/api/outputs").json();
    for (const auto& entry : outputs["talker"]) lines.push_back(entry["line"]);
    return lines;
}

std::ptrdiff_t index_of(const std::vector<std::string>& lines, const std::string& text) {
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].find(text) != std::string::npos) return static_cast<std::ptrdiff_t>(i);
    return -1;
}

}  // namespace

TEST_CASE("output is kept on disk, can be downloaded, and comes back after a restart", "[log_files]") {
    temp_dir logs;
    {
        daemon_process first(config(logs.path(), "for i in $(seq 1 20); do echo first run line $i; done; sleep 300"));
        REQUIRE(wait_until([&] { return index_of(lines_of(first), "first run line 20") >= 0; }, 10s));
        http_reply download;
        REQUIRE(wait_until([&] {
            download = first.get("/api/outputs/talker/log");
            return download.body.find("first run line 20\n") != std::string::npos;
        }, 5s));
        CHECK(download.status == 200);
        CHECK(download.body.find(" first run line 1\n") != std::string::npos);
        CHECK(std::filesystem::exists(logs.path() / "talker.log"));
        CHECK(first.terminate() == 0);
    }
    daemon_process second(config(logs.path(), "echo second run; sleep 300"));
    std::vector<std::string> lines;
    REQUIRE(wait_until([&] { return index_of(lines = lines_of(second), "second run") >= 0; }, 10s));
    INFO(second.log());
    const auto before = index_of(lines, "first run line 20"), marker = index_of(lines, "orderstream restarted"),
               after = index_of(lines, "second run");
    CHECK(index_of(lines, "first run line 1") == 0);
    CHECK(before >= 0);
    CHECK(marker == before + 1);
    CHECK(after > marker);
}

TEST_CASE("terminal files rotate by size and keep log_backups of them", "[log_files]") {
    temp_dir logs;
    // 400 lines of about 60 bytes: 24 KB through files of at most 4 KB, two backups kept.
    daemon_process daemon(config(logs.path(),
                                 "for i in $(seq 1 400); do echo rotation line $i padding padding padding padding; done; "
                                 "sleep 300",
                                 "log_max_bytes = 4096\nlog_backups = 2\n"));
    const auto current = logs.path() / "talker.log";
    auto last_line = [&] {
        std::ifstream in(current);
        std::string line, last;
        while (std::getline(in, line)) last = line;
        return last;
    };
    REQUIRE(wait_until([&] { return last_line().find("rotation line 400 ") != std::string::npos; }, 10s));
    CHECK(std::filesystem::exists(logs.path() / "talker.log.1"));
    CHECK(std::filesystem::exists(logs.path() / "talker.log.2"));
    CHECK_FALSE(std::filesystem::exists(logs.path() / "talker.log.3"));
    for (const auto* name : {"talker.log", "talker.log.1", "talker.log.2"}) {
        INFO(name);
        CHECK(std::filesystem::file_size(logs.path() / name) <= 4096);
    }
}

TEST_CASE("a log download without log_dir, or of an unknown terminal, is a clear 404", "[log_files]") {
    daemon_process plain("[[processes]]\nname = \"talker\"\ncommand = \"sleep\"\nargs = [\"300\"]\n");
    auto reply = plain.get("/api/outputs/talker/log");
    CHECK(reply.status == 404);
    CHECK(reply.body.find("capture.log_dir") != std::string::npos);

    temp_dir logs;
    daemon_process kept(config(logs.path(), "sleep 300"));
    CHECK(kept.get("/api/outputs/nobody/log").status == 404);
    CHECK(kept.get("/api/outputs/talker/log").status == 200);
}
