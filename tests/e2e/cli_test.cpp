// The command line as a user meets it: help, version, usage errors and exit codes.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/daemon_process.hpp"

namespace {

orderstream::testing::shell_result run(const std::string& args) {
    return orderstream::testing::run_shell(std::string(ORDERSTREAM_BINARY) + " " + args);
}

}  // namespace

TEST_CASE("--help and --version work on every subcommand") {
    for (const char* sub : {"", "run ", "produce ", "consume "}) {
        INFO(sub);
        auto help = run(std::string(sub) + "--help");
        CHECK(help.exit_code == 0);
        CHECK_THAT(help.output, Catch::Contains("Usage"));
        auto version = run(std::string(sub) + "--version");
        CHECK(version.exit_code == 0);
        CHECK_THAT(version.output, Catch::Contains("orderstream 0.1.0"));
    }
    CHECK_THAT(run("produce --help").output, Catch::Contains("NUM_ORDERS"));
    CHECK_THAT(run("consume --help").output, Catch::Contains("GROUP_ID"));
}

TEST_CASE("bad arguments print a clear message and exit 2") {
    auto unknown = run("frobnicate");
    CHECK(unknown.exit_code == 2);
    CHECK_THAT(unknown.output, Catch::Contains("frobnicate"));
    CHECK(run("").exit_code == 2);
    CHECK(run("produce ten").exit_code == 2);
    CHECK(run("produce 5 -1").exit_code == 2);
    CHECK(run("run --bogus").exit_code == 2);
    CHECK(run("produce -X novalue").exit_code == 2);
    auto listen = run("run --listen 127.0.0.1:99999");
    CHECK(listen.exit_code == 2);
    CHECK_THAT(listen.output, Catch::Contains("--listen"));
}

TEST_CASE("consume without a group prints the three groups and exits 1") {
    auto usage = run("consume");
    CHECK(usage.exit_code == 1);
    for (const char* group : {"shipping-group", "email-group", "analytics-group"})
        CHECK_THAT(usage.output, Catch::Contains(group));
}

TEST_CASE("a bad config file names the key and exits 2 before starting anything") {
    orderstream::testing::temp_dir dir;
    auto path = dir.path() / "bad.toml";
    std::ofstream(path) << "[capture]\nring_lines = -5\n";
    auto bad = run("run --config " + path.string());
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.output, Catch::Contains("capture.ring_lines"));
    auto missing = run("run --config /nonexistent.toml");
    CHECK(missing.exit_code == 2);
    CHECK_THAT(missing.output, Catch::Contains("/nonexistent.toml"));
    // A directory used to start the daemon with the defaults.
    auto directory = run("run --config " + dir.path().string());
    CHECK(directory.exit_code == 2);
    CHECK_THAT(directory.output, Catch::Contains("is a directory"));
}
