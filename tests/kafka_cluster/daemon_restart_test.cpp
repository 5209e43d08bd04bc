// SIGTERM to the daemon mid-stream, then a new daemon on the same config: the consumers go on
// from their committed offsets, nothing delivered is lost, and no child of the first survives.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "kafka_cluster/kafka_cluster.hpp"
#include "kafka_cluster/pipeline_checks.hpp"
#include "kafka_cluster/pipeline_config.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

TEST_CASE("a daemon restarted mid-stream resumes from committed offsets", "[daemon_restart]") {
    kafka_cluster cluster;
    auto config = cluster.pipeline_on_new_topic("daemon-restart");
    config.orders = 3000;
    const std::string toml = config.toml();

    auto first = std::make_unique<daemon_process>(toml);
    output_collector out;
    out.attach(*first);
    REQUIRE(out.poll_until(
        [&] {
            for (const auto& group : order_ledger::groups())
                if (out.ledger().processed(group).size() < 1000) return false;
            return true;
        },
        60s));
    std::vector<pid_t> children;
    REQUIRE(wait_until([&] { return (children = first->child_pids()).size() == 4; }, 10s));

    // SIGTERM, then read the terminals as fast as possible until the daemon stops answering:
    // what the children print while they stop (the producer's last delivery reports, the
    // consumers' last orders before their final commit) is only in this daemon's memory.
    REQUIRE(::kill(first->pid(), SIGTERM) == 0);
    while (out.poll()) {
    }
    std::map<std::string, std::size_t> processed_by_first;
    for (const auto& group : order_ledger::groups())
        processed_by_first[group] = out.ledger().processed(group).size();
    const auto delivered_by_first = out.ledger().delivered().size();
    // Reaped only once it has exited by itself: a second SIGTERM (terminate() sends one) could
    // hit it after its signal handler is gone.
    const bool exited = wait_until([&] { return !process_alive(first->pid()); }, 30s);
    INFO(out.diagnostics());
    REQUIRE(exited);
    const int status = first->terminate(10s);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(first->log().find("all children stopped") != std::string::npos);
    for (pid_t child : children) {
        INFO("child " << child << " of the first daemon");
        CHECK_FALSE(process_alive(child));
    }
    // The daemon exits as soon as its last child has, so that child's last lines may never be
    // served; a consumer's orders come well before its final commit and are read in time.
    std::size_t final_lines = out.ledger().producer_stopped();
    for (const auto& group : order_ledger::groups())
        for (const auto& line : out.lines(group))
            final_lines += line.rfind("Consumer ", 0) == 0 && line.find(" stopped: processed ") != std::string::npos;
    std::cout << "[kafka_cluster] daemon_restart: first daemon stopped after " << delivered_by_first
              << " deliveries; " << final_lines << " of its 4 children's final lines read in "
              << out.polls() << " polls" << std::endl;
    REQUIRE(delivered_by_first < 3000);  // really mid-stream

    // The same config again: its producer goes on after the highest id in the topic.
    daemon_process second(toml);
    out.attach(second);
    const auto summaries = out.ledger().producer_summaries().size();
    const bool done = out.poll_until(
        [&] { return out.ledger().producer_summaries().size() > summaries; }, 120s);
    INFO(out.diagnostics());
    REQUIRE(done);
    require_all_processed(out, 1s, 120s);

    // Resuming from committed offsets, not from the start of the topic: at most a few of the
    // first daemon's orders are processed again.
    for (const auto& group : order_ledger::groups()) {
        INFO(group << ": " << out.ledger().duplicated_orders(group) << " orders processed twice of "
                   << processed_by_first[group] << " processed by the first daemon");
        CHECK(out.ledger().duplicated_orders(group) * 10 < processed_by_first[group]);
    }
    CHECK(out.ledger().delivered().size() > delivered_by_first);
    check_dashboard(second, out, "daemon_restart");
    report_duplicates("daemon_restart", out);
}

TEST_CASE("a restarted daemon shows the same figures as before, and no false loss",
          "[daemon_restart]") {
    kafka_cluster cluster;
    auto config = cluster.pipeline_on_new_topic("daemon-restart-figures");
    config.orders = 20000;
    config.delay_seconds = 0;

    auto first = std::make_unique<daemon_process>(config.toml());
    output_collector out;
    out.attach(*first);
    require_all_processed(out, 120s, 120s);
    check_dashboard(*first, out, "daemon_restart_figures (first daemon)");
    const auto figures = [](const daemon_process& daemon) {
        std::map<std::string, std::string> by_group;
        for (const auto& group : daemon.get("/api/groups").json())
            by_group[group["group"]] = "processed " + group["processed"].dump() + ", duplicates " +
                                       group["duplicates"].dump() + ", lost " + group["lost"].dump() + ", lag " +
                                       group["lag"].dump();
        return by_group;
    };
    const auto before = figures(*first);
    REQUIRE(first->terminate(30s) != -1);
    first.reset();

    // Consumers only: nothing new, so every figure must come back as it was.
    config.orders.reset();
    daemon_process second(config.toml());
    std::map<std::string, std::string> after;
    const bool same = wait_until([&] { return (after = figures(second)) == before; }, 60s);
    for (const auto& [group, text] : before) {
        INFO(group << " before: " << text << "; after: " << after[group]);
        CHECK(after[group] == text);
    }
    REQUIRE(same);
    // And they stay so: no order turns "lost" as time passes.
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until) {
        after = figures(second);
        INFO(second.log());
        REQUIRE(after == before);
        std::this_thread::sleep_for(5s);
    }
    std::cout << "[kafka_cluster] daemon_restart_figures: " << out.ledger().delivered().size()
              << " orders; the same figures for 60 s after the restart:";
    for (const auto& [group, text] : before) std::cout << " " << group << " " << text << ";";
    std::cout << std::endl;
}
