// The pipeline through the cluster's SASL_SSL listener (ORDERSTREAM_KAFKA_SASL_PORTS): TLS with
// the cluster's own CA and a password read from a file. The password shows nowhere the daemon
// answers or logs, and a wrong one is named as such on the page and in /readyz. PLAIN, not
// SCRAM: librdkafka before 2.6.1 (Debian 12 has 2.0.2) fails SCRAM against Kafka 4 (#4895).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "kafka_cluster/kafka_cluster.hpp"
#include "kafka_cluster/pipeline_checks.hpp"
#include "kafka_cluster/pipeline_config.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;

namespace {

std::string sasl_dir() { return std::string(std::getenv("ORDERSTREAM_KAFKA_RUN_DIR")) + "/sasl"; }

std::string sasl_bootstrap() {
    std::istringstream ports(std::getenv("ORDERSTREAM_KAFKA_SASL_PORTS"));
    std::string port, out;
    while (ports >> port) out += (out.empty() ? "" : ",") + std::string("127.0.0.1:") + port;
    return out;
}

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

pipeline_config sasl_config(kafka_cluster& cluster, const std::string& password_file) {
    pipeline_config config;
    config.topic = cluster.create_topic("sasl");
    config.bootstrap_servers = sasl_bootstrap();
    config.password_file = password_file;
    config.properties = {{"security.protocol", "SASL_SSL"},
                         {"sasl.mechanisms", "PLAIN"},
                         {"sasl.username", first_line(sasl_dir() + "/username")},
                         {"ssl.ca.location", sasl_dir() + "/ca.pem"}};
    return config;
}

// Everything the daemon tells anyone: its log and every read endpoint.
std::string everything_said(const daemon_process& daemon) {
    std::string said = daemon.log();
    for (const char* target : {"/", "/app.js", "/api/outputs", "/api/processes", "/api/cluster", "/api/groups",
                               "/api/dead-letters", "/api/metrics/history", "/metrics", "/readyz"})
        said += daemon.get(target).body;
    return said;
}

}  // namespace

TEST_CASE("orders go through SASL_SSL, and the password shows nowhere", "[sasl]") {
    kafka_cluster cluster;
    const std::string password = first_line(sasl_dir() + "/password");
    REQUIRE(password.size() >= 16);
    auto config = sasl_config(cluster, sasl_dir() + "/password");
    config.orders = 300;
    daemon_process daemon(config.toml());
    output_collector out;
    out.attach(daemon);

    require_all_processed(out, 90s, 60s);
    INFO(out.diagnostics());
    CHECK(out.ledger().delivered().size() == 300);
    check_dashboard(daemon, out, "sasl");
    CHECK(everything_said(daemon).find(password) == std::string::npos);
}

TEST_CASE("a wrong SASL password is named as such on the page and in /readyz", "[sasl]") {
    kafka_cluster cluster;
    temp_dir secrets;
    const std::string wrong = "not-the-password-" + std::to_string(::getpid());
    const auto wrong_file = (secrets.path() / "password").string();
    std::ofstream(wrong_file) << wrong << "\n";
    auto config = sasl_config(cluster, wrong_file);
    config.orders = 10;
    daemon_process daemon(config.toml());

    http_reply ready;
    const bool named = wait_until([&] {
        ready = daemon.get("/readyz");
        return ready.status == 503 && ready.body.find("SASL authentication error") != std::string::npos;
    }, 30s);
    INFO(ready.body << "\n" << daemon.log());
    CHECK(named);
    const auto cluster_view = daemon.get("/api/cluster").json();
    CHECK(cluster_view["reachable"] == false);
    CHECK(cluster_view["error"].get<std::string>().find("Invalid username or password") != std::string::npos);
    CHECK(everything_said(daemon).find(wrong) == std::string::npos);
}
