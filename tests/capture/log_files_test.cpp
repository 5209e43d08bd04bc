// Terminal files: a disk that refuses writes (here a file-size limit, as a full disk would)
// drops lines from the file and counts them; nothing blocks, and the files start again once
// the disk takes writes.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>

#include <filesystem>

#include "capture/log_files.hpp"
#include "support/daemon_process.hpp"

using orderstream::capture::log_file_options;
using orderstream::capture::log_files;

TEST_CASE("a disk that refuses writes drops file lines and counts them", "[log_files]") {
    orderstream::testing::temp_dir dir;
    log_file_options options;
    options.dir = dir.path();
    log_files files(options);
    const char hms[9] = "12:00:00";
    const std::string line(100, 'x');

    // Past 8 KiB every write fails with EFBIG (SIGXFSZ ignored, as the daemon does).
    auto* previous = ::signal(SIGXFSZ, SIG_IGN);
    rlimit original{};
    ::getrlimit(RLIMIT_FSIZE, &original);
    rlimit small = original;
    small.rlim_cur = 8192;
    ::setrlimit(RLIMIT_FSIZE, &small);
    for (int i = 0; i < 200; ++i) files.write("talker", hms, line);
    files.flush();
    ::setrlimit(RLIMIT_FSIZE, &original);
    ::signal(SIGXFSZ, previous);

    const auto size = std::filesystem::file_size(dir.path() / "talker.log");
    CHECK(size <= 8192);
    CHECK(files.dropped() > 0);
    CHECK(files.dropped() + size / (line.size() + 10) >= 200);  // every line written or counted

    // The disk takes writes again: lines reach the file again.
    files.write("talker", hms, "after the disk came back");
    files.flush();
    const auto tail = files.tail("talker", 1);
    REQUIRE(tail.size() == 1);
    CHECK(tail[0].second == "after the disk came back");
}
