// GET /metrics parses with the Prometheus client library's own parser, and /readyz follows the
// children's states.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sys/wait.h>

#include "support/daemon_process.hpp"

using namespace orderstream::testing;

TEST_CASE("/metrics is valid Prometheus text with the daemon's counters") {
    daemon_process daemon(R"(
[[processes]]
name = "talker"
command = "/bin/sh"
args = ["-c", "echo one; echo two; sleep 300"]
stable_seconds = 0.3
[[processes]]
name = "crasher"
command = "/bin/sh"
args = ["-c", "exit 1"]
backoff_initial_seconds = 0.1
max_quick_failures = 2
)");
    REQUIRE(wait_until(
        [&] {
            auto processes = daemon.get("/api/processes").json();
            return processes[0]["state"] == "RUNNING" && processes[1]["state"] == "FATAL";
        },
        std::chrono::seconds(10)));
    REQUIRE(wait_until([&] { return daemon.get("/readyz").status == 503; }, std::chrono::seconds(10)));
    CHECK_THAT(daemon.get("/readyz").body, Catch::Contains("crasher is FATAL"));
    daemon.get("/api/nothing");  // a 404 to count

    auto reply = daemon.get("/metrics");
    REQUIRE(reply.status == 200);
    CHECK_THAT(reply.headers["content-type"], Catch::StartsWith("text/plain; version=0.0.4"));
    temp_dir dir;
    auto path = dir.path() / "metrics.txt";
    std::ofstream(path) << reply.body;

    // Parse with prometheus_client and print "name{labels} value" per sample for the checks below.
    std::string command = "/usr/bin/python3 -c 'import sys\nfrom prometheus_client.parser import text_string_to_metric_families as parse\n"
                          "for family in parse(open(sys.argv[1]).read()):\n"
                          "  for s in family.samples: print(s.name, sorted(s.labels.items()), s.value)' " + path.string();
    auto [exit_code, parsed] = run_shell(command);
    INFO(reply.body << "\n---\n" << parsed);
    REQUIRE(exit_code == 0);
    CHECK_THAT(parsed, Catch::Contains("orderstream_lines_captured_total [('terminal', 'talker')] 2.0"));
    CHECK_THAT(parsed, Catch::Contains("orderstream_process_restarts_total [('process', 'crasher')] 1.0"));
    CHECK_THAT(parsed, Catch::Contains("orderstream_process_state [('process', 'crasher'), ('state', 'FATAL')] 1.0"));
    CHECK_THAT(parsed, Catch::Contains("orderstream_process_state [('process', 'talker'), ('state', 'RUNNING')] 1.0"));
    CHECK_THAT(parsed, Catch::Contains("orderstream_http_responses_total [('code', '404')] 1.0"));
}

TEST_CASE("/readyz is ready once every child runs") {
    daemon_process daemon(R"(
[[processes]]
name = "sleeper"
command = "sleep"
args = ["300"]
stable_seconds = 0.5
)");
    CHECK(wait_until([&] { return daemon.get("/readyz").status == 200; }, std::chrono::seconds(10)));
    CHECK(daemon.get("/healthz").status == 200);
    daemon.post("/api/processes/sleeper/stop");
    CHECK(wait_until([&] { return daemon.get("/readyz").status == 503; }, std::chrono::seconds(10)));
}
