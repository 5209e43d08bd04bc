// The daemon's configuration as plain structs; every field's default is the documented default
// (config/orderstream.toml lists them all).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace orderstream::config {

struct restart_policy {
    bool autorestart = true;
    double backoff_initial_seconds = 1.0;  // first delay before a restart
    double backoff_max_seconds = 30.0;     // the delay doubles up to this
    double stable_seconds = 5.0;           // up this long: RUNNING, and the backoff resets
    int max_quick_failures = 5;            // exits before stable_seconds in a row, then FATAL
};

struct process_config {
    std::string name;
    std::string terminal;
    std::string command;  // empty: this orderstream binary
    std::vector<std::string> args;
    restart_policy restart;
    // Copies run (name, name-2, …), all writing into the one terminal; scalable at run time.
    int instances = 1;
    // Processes (by name) that must be ready before this one starts.
    std::vector<std::string> depends_on;
    // Ready only once the child says so on the notify socket (orderstream consume does, once
    // it holds its assignment), besides being RUNNING.
    bool notify_ready = false;
    // A copy whose partitions stall this long while it runs is restarted (0: never).
    double restart_when_stalled_seconds = 0;
};

// At most this many copies of one process.
constexpr int max_instances = 16;
// The name of copy `instance` (1-based) of a process: "shipping", "shipping-2", …
std::string instance_name(const std::string& name, int instance);
// The positional arguments of this binary's `consume GROUP [TOPIC] [options]` (every option of
// consume takes a value), or nothing for any other process.
std::vector<std::string> consume_positionals(const process_config& process);
// The consumer group of a process that runs `consume GROUP …`, else empty.
std::string consumer_group(const process_config& process);

inline bool operator==(const restart_policy& a, const restart_policy& b) {
    return a.autorestart == b.autorestart && a.backoff_initial_seconds == b.backoff_initial_seconds &&
           a.backoff_max_seconds == b.backoff_max_seconds && a.stable_seconds == b.stable_seconds &&
           a.max_quick_failures == b.max_quick_failures;
}
inline bool operator==(const process_config& a, const process_config& b) {
    return a.name == b.name && a.terminal == b.terminal && a.command == b.command && a.args == b.args &&
           a.restart == b.restart && a.instances == b.instances && a.depends_on == b.depends_on &&
           a.notify_ready == b.notify_ready && a.restart_when_stalled_seconds == b.restart_when_stalled_seconds;
}
inline bool operator!=(const process_config& a, const process_config& b) { return !(a == b); }

struct http_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string web_root;  // empty: the assets built into the binary
    // API access token; finalize() resolves $ORDERSTREAM_TOKEN, then token_file, then token.
    std::string token;
    std::string token_file;
    std::vector<std::string> allowed_hosts;  // extra "host:port" names the daemon answers to
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 64 * 1024;
    double header_timeout_seconds = 10.0;  // from accept (or the last response) to a whole header
    double read_timeout_seconds = 30.0;
    std::size_t max_connections = 0;  // 0: half the open-file limit, 16 to 10000
    // Lines for /api/stream are gathered this long, then sent as one event per client: each
    // client costs one write per window, so a longer one costs less CPU and adds delay.
    int stream_coalesce_ms = 30;
};

struct capture_config {
    std::size_t ring_lines = 1000;
    std::size_t max_line_bytes = 16 * 1024;
    // Each terminal's output also goes to <log_dir>/<terminal>.log (empty: nowhere). A relative
    // path is under $STATE_DIRECTORY when systemd sets it, else the current directory.
    std::string log_dir;
    std::uint64_t log_max_bytes = 50ull << 20;  // rotated before it grows past this
    int log_backups = 10;                       // rotated files kept
};

struct kafka_config {
    std::string bootstrap_servers;  // empty: start the embedded cluster
    int embedded_brokers = 3;
    // Replicas of the topics the daemon creates on a cluster that lacks them; it waits until the
    // cluster shows this many brokers (1 for a single-broker development cluster).
    int topic_replication = 3;
    std::vector<std::pair<std::string, std::string>> properties;  // passed to every child
    // The SASL password's file (first line); finalize() adds it as sasl.password, so the
    // config itself holds no secret.
    std::string password_file;
};

struct supervisor_config {
    double stop_grace_seconds = 10.0;
    // The sliding window over which a consumer group's commits and lag are judged (OK, WARN,
    // STALL, STOP); at least two of the consumers' commit intervals.
    double health_window_seconds = 30.0;
};

struct audit_config {
    // Every state-changing API request is appended here as a JSON line (empty: memory and the
    // daemon log only). Relative: under $STATE_DIRECTORY when systemd sets it.
    std::string file;
};

struct daemon_config {
    http_config http;
    audit_config audit;
    capture_config capture;
    kafka_config kafka;
    supervisor_config supervisor;
    double producer_delay_seconds = 1.0;
    std::vector<process_config> processes;  // empty after loading: the default four
};

// The producer and the three department consumers, all run as this binary.
std::vector<process_config> default_processes(double producer_delay_seconds);

}  // namespace orderstream::config
