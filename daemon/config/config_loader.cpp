// Reads the TOML config into daemon_config, naming the key in every error; see config_loader.hpp.
#include "config/config_loader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace orderstream::config {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& message) {
    throw config_error(key + ": " + message);
}

// Walks one TOML table, reading known keys and rejecting any other, so a typo is an error
// rather than a silently ignored setting.
class table_reader {
public:
    table_reader(const toml::table& table, std::string path) : table_(table), path_(std::move(path)) {}

    ~table_reader() noexcept(false) {
        if (std::uncaught_exceptions() > 0) return;
        for (auto&& [key, node] : table_) {
            if (!known_.count(std::string(key.str())))
                fail(name(key.str()), "unknown key (check its spelling against config/orderstream.toml)");
        }
    }

    std::string name(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

    const toml::node* get(std::string_view key) {
        known_.insert(std::string(key));
        return table_.get(key);
    }

    void read(std::string_view key, std::string& out) {
        if (auto* node = get(key)) {
            auto value = node->value_exact<std::string>();
            if (!value) fail(name(key), "must be a string");
            out = *value;
        }
    }

    void read(std::string_view key, bool& out) {
        if (auto* node = get(key)) {
            auto value = node->value_exact<bool>();
            if (!value) fail(name(key), "must be true or false");
            out = *value;
        }
    }

    void read(std::string_view key, double& out, double min, double max) {
        if (auto* node = get(key)) {
            std::optional<double> value;
            if (node->is_floating_point() || node->is_integer()) value = node->value<double>();
            if (!value || !std::isfinite(*value)) fail(name(key), "must be a number");
            if (*value < min || *value > max)
                fail(name(key), "must be between " + format(min) + " and " + format(max));
            out = *value;
        }
    }

    template <typename Int>
    void read(std::string_view key, Int& out, std::int64_t min, std::int64_t max) {
        if (auto* node = get(key)) {
            auto value = node->value_exact<std::int64_t>();
            if (!value) fail(name(key), "must be an integer");
            if (*value < min || *value > max)
                fail(name(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
            out = static_cast<Int>(*value);
        }
    }

    void read(std::string_view key, std::vector<std::string>& out) {
        if (auto* node = get(key)) {
            auto* array = node->as_array();
            if (!array) fail(name(key), "must be an array of strings");
            out.clear();
            for (std::size_t i = 0; i < array->size(); ++i) {
                auto value = array->get(i)->value_exact<std::string>();
                if (!value) fail(name(key) + "[" + std::to_string(i) + "]", "must be a string");
                out.push_back(*value);
            }
        }
    }

    const toml::table* subtable(std::string_view key) {
        auto* node = get(key);
        if (!node) return nullptr;
        if (!node->is_table()) fail(name(key), "must be a table ([" + name(key) + "])");
        return node->as_table();
    }

private:
    static std::string format(double v) {
        std::ostringstream out;
        out << v;
        return out.str();
    }

    const toml::table& table_;
    std::string path_;
    std::set<std::string> known_;
};

void read_restart(table_reader& reader, restart_policy& restart) {
    reader.read("autorestart", restart.autorestart);
    reader.read("backoff_initial_seconds", restart.backoff_initial_seconds, 0.01, 3600);
    reader.read("backoff_max_seconds", restart.backoff_max_seconds, 0.01, 86400);
    reader.read("stable_seconds", restart.stable_seconds, 0, 3600);
    reader.read("max_quick_failures", restart.max_quick_failures, 1, 1000);
}

void read_processes(const toml::node& node, std::vector<process_config>& processes) {
    auto* array = node.as_array();
    // An empty array is an array of tables too: say what is wrong with it first.
    if (array && array->empty())
        fail("processes", "is empty: list at least one process, or leave processes out for the default four");
    if (!array || !array->is_array_of_tables())
        fail("processes", "must be an array of tables ([[processes]])");
    for (std::size_t i = 0; i < array->size(); ++i) {
        std::string path = "processes[" + std::to_string(i) + "]";
        table_reader reader(*array->get(i)->as_table(), path);
        process_config process;
        reader.read("name", process.name);
        reader.read("terminal", process.terminal);
        reader.read("command", process.command);
        reader.read("args", process.args);
        read_restart(reader, process.restart);
        reader.read("instances", process.instances, 1, max_instances);
        reader.read("depends_on", process.depends_on);
        reader.read("notify_ready", process.notify_ready);
        reader.read("restart_when_stalled_seconds", process.restart_when_stalled_seconds, 0, 86400);
        if (process.name.empty()) fail(path + ".name", "is required and must not be empty");
        if (process.terminal.empty()) process.terminal = process.name;
        processes.push_back(std::move(process));
    }
}

}  // namespace

std::vector<process_config> default_processes(double producer_delay_seconds) {
    std::ostringstream delay;
    delay << producer_delay_seconds;
    // The consumers start first and the producer once they hold their partitions, so the first
    // orders never wait on a group join; a consumer stalled for a minute is started afresh.
    std::vector<process_config> processes;
    process_config producer;
    producer.name = producer.terminal = "producer";
    producer.args = {"produce", "0", delay.str()};
    producer.depends_on = {"shipping", "email", "analytics"};
    processes.push_back(producer);
    for (const char* department : {"shipping", "email", "analytics"}) {
        process_config consumer;
        consumer.name = consumer.terminal = department;
        consumer.args = {"consume", std::string(department) + "-group"};
        consumer.notify_ready = true;
        consumer.restart_when_stalled_seconds = 60;
        processes.push_back(consumer);
    }
    return processes;
}

void parse_listen(std::string_view text, std::string_view key, http_config& http) {
    std::string host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            fail(std::string(key), "must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
        host = std::string(text.substr(1, close - 1));
        port_text = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || colon == 0)
            fail(std::string(key), "must be HOST:PORT, e.g. 127.0.0.1:8080");
        host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
    }
    if (port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string_view::npos)
        fail(std::string(key), "port must be a number from 0 to 65535");
    unsigned long port = std::stoul(std::string(port_text));
    if (port > 65535) fail(std::string(key), "port must be a number from 0 to 65535");
    http.host = host;
    http.port = static_cast<std::uint16_t>(port);
}

daemon_config parse_config(std::string_view toml_text, std::string_view source_name) {
    toml::table root;
    try {
        root = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& error) {
        const auto& where = error.source().begin;
        std::ostringstream message;
        message << source_name << ":" << where.line << ":" << where.column << ": "
                << error.description();
        throw config_error(message.str());
    }

    daemon_config config;
    table_reader top(root, "");
    if (auto* http = top.subtable("http")) {
        table_reader reader(*http, "http");
        std::string listen;
        reader.read("listen", listen);
        if (reader.get("listen")) parse_listen(listen, "http.listen", config.http);
        reader.read("web_root", config.http.web_root);
        reader.read("token", config.http.token);
        reader.read("token_file", config.http.token_file);
        reader.read("allowed_hosts", config.http.allowed_hosts);
        reader.read("max_header_bytes", config.http.max_header_bytes, 1024, 1 << 20);
        reader.read("max_body_bytes", config.http.max_body_bytes, 0, 16 << 20);
        reader.read("header_timeout_seconds", config.http.header_timeout_seconds, 0.1, 3600);
        reader.read("read_timeout_seconds", config.http.read_timeout_seconds, 0.1, 3600);
        reader.read("max_connections", config.http.max_connections, 0, 100000);
        reader.read("stream_coalesce_ms", config.http.stream_coalesce_ms, 1, 1000);
    }
    if (auto* capture = top.subtable("capture")) {
        table_reader reader(*capture, "capture");
        reader.read("ring_lines", config.capture.ring_lines, 1, 1000000);
        reader.read("max_line_bytes", config.capture.max_line_bytes, 64, 1 << 20);
        reader.read("log_dir", config.capture.log_dir);
        reader.read("log_max_bytes", config.capture.log_max_bytes, 4096, std::int64_t{1} << 40);
        reader.read("log_backups", config.capture.log_backups, 0, 1000);
    }
    if (auto* kafka = top.subtable("kafka")) {
        table_reader reader(*kafka, "kafka");
        reader.read("bootstrap_servers", config.kafka.bootstrap_servers);
        reader.read("embedded_brokers", config.kafka.embedded_brokers, 1, 9);
        reader.read("topic_replication", config.kafka.topic_replication, 1, 16);
        reader.read("password_file", config.kafka.password_file);
        if (auto* properties = reader.subtable("properties")) {
            for (auto&& [key, node] : *properties) {
                std::string name = "kafka.properties." + std::string(key.str());
                if (auto text = node.value_exact<std::string>())
                    config.kafka.properties.emplace_back(std::string(key.str()), *text);
                else
                    fail(name, "must be a string (librdkafka takes every property as text)");
            }
        }
    }
    if (auto* supervisor = top.subtable("supervisor")) {
        table_reader reader(*supervisor, "supervisor");
        reader.read("stop_grace_seconds", config.supervisor.stop_grace_seconds, 0, 3600);
        reader.read("health_window_seconds", config.supervisor.health_window_seconds, 5, 3600);
    }
    if (auto* audit = top.subtable("audit")) {
        table_reader reader(*audit, "audit");
        reader.read("file", config.audit.file);
    }
    if (auto* producer = top.subtable("producer")) {
        table_reader reader(*producer, "producer");
        reader.read("delay_seconds", config.producer_delay_seconds, 0, 3600);
    }
    if (auto* processes = top.get("processes")) read_processes(*processes, config.processes);
    return config;
}

daemon_config load_config_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw config_error(path + ": is a directory, not a config file (name the .toml file itself)");
    std::ifstream file(path, std::ios::binary);
    if (!file) throw config_error(path + ": cannot open the config file: " + std::strerror(errno));
    std::ostringstream text;
    text << file.rdbuf();
    return parse_config(text.str(), path);
}

namespace {

// The first line of a file holding a secret (a token, a password), without trailing blanks.
std::string read_secret_file(const std::string& path, const std::string& key) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) fail(key, "\"" + path + "\" is not a readable file");
    std::ifstream file(path);
    if (!file) fail(key, "cannot read \"" + path + "\"");
    char line[1024] = {};
    file.getline(line, sizeof line);  // a secret is one short line; bound what we read
    std::string secret = line;
    while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) secret.pop_back();
    if (secret.empty()) fail(key, "the file's first line is empty");
    return secret;
}

// A copy of one process ("shipping-2") must not take another process's name.
void check_copy_names(const std::vector<process_config>& processes) {
    for (const auto& process : processes)
        for (const auto& other : processes)
            for (int instance = 2; instance <= max_instances; ++instance)
                if (other.name == instance_name(process.name, instance))
                    fail("processes", "\"" + other.name + "\" is the name of copy " + std::to_string(instance) + " of \"" +
                                          process.name + "\" (instances = 2…16); rename it");
}

// Every dependency names a process, and none depends on itself through others.
void check_dependencies(const std::vector<process_config>& processes) {
    std::map<std::string, const process_config*> by_name;
    for (const auto& process : processes) by_name[process.name] = &process;
    for (std::size_t i = 0; i < processes.size(); ++i)
        for (const auto& dependency : processes[i].depends_on)
            if (!by_name.count(dependency))
                fail("processes[" + std::to_string(i) + "].depends_on",
                     "\"" + processes[i].name + "\" depends on \"" + dependency + "\", which is not a process");
    // Depth-first search; `path` holds the processes being visited, to name the cycle.
    std::map<std::string, int> visited;  // 1: on the current path, 2: done
    std::vector<std::string> path;
    std::function<void(const process_config&)> visit = [&](const process_config& process) {
        visited[process.name] = 1;
        path.push_back(process.name);
        for (const auto& dependency : process.depends_on) {
            if (visited[dependency] == 1) {
                std::string cycle;
                auto start = std::find(path.begin(), path.end(), dependency);
                for (auto it = start; it != path.end(); ++it) cycle += *it + " -> ";
                fail("processes", "depends_on forms a cycle: " + cycle + dependency);
            }
            if (visited[dependency] == 0) visit(*by_name[dependency]);
        }
        path.pop_back();
        visited[process.name] = 2;
    };
    for (const auto& process : processes)
        if (visited[process.name] == 0) visit(process);
}

}  // namespace

void finalize(daemon_config& config) {
    if (config.processes.empty()) config.processes = default_processes(config.producer_delay_seconds);
    std::set<std::string> names, terminals;
    for (std::size_t i = 0; i < config.processes.size(); ++i) {
        const auto& process = config.processes[i];
        std::string path = "processes[" + std::to_string(i) + "]";
        if (!names.insert(process.name).second)
            fail(path + ".name", "duplicate process name \"" + process.name + "\"");
        if (!terminals.insert(process.terminal).second)
            fail(path + ".terminal", "duplicate terminal \"" + process.terminal +
                                         "\" (each process needs a terminal of its own)");
        for (char c : process.terminal)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
                fail(path + ".terminal", "may hold only letters, digits, '-' and '_' (it is part of URLs)");
        if (process.restart.backoff_max_seconds < process.restart.backoff_initial_seconds)
            fail(path + ".backoff_max_seconds", "must not be less than backoff_initial_seconds");
    }
    check_copy_names(config.processes);
    check_dependencies(config.processes);
    if (config.http.host.empty()) fail("http.listen", "host must not be empty");
    if (const char* state = std::getenv("STATE_DIRECTORY");
        state && *state && !config.capture.log_dir.empty() && std::filesystem::path(config.capture.log_dir).is_relative())
        config.capture.log_dir = (std::filesystem::path(state) / config.capture.log_dir).string();
    if (const char* state = std::getenv("STATE_DIRECTORY");
        state && *state && !config.audit.file.empty() && std::filesystem::path(config.audit.file).is_relative())
        config.audit.file = (std::filesystem::path(state) / config.audit.file).string();

    if (const char* token = std::getenv("ORDERSTREAM_TOKEN"); token && *token) {
        config.http.token = token;
    } else if (!config.http.token_file.empty()) {
        config.http.token = read_secret_file(config.http.token_file, "http.token_file");
    }
    if (!config.kafka.password_file.empty()) {
        const auto password = read_secret_file(config.kafka.password_file, "kafka.password_file");
        auto& properties = config.kafka.properties;
        properties.erase(std::remove_if(properties.begin(), properties.end(),
                                        [](const auto& p) { return p.first == "sasl.password"; }),
                         properties.end());
        properties.emplace_back("sasl.password", password);
    }
    if (!config.http.token.empty() && config.http.token.size() < 16)
        fail("http.token", "must be at least 16 characters (e.g. openssl rand -hex 24)");
    bool loopback = config.http.host == "localhost" || config.http.host == "::1" ||
                    config.http.host.rfind("127.", 0) == 0;
    if (!loopback && config.http.token.empty())
        fail("http.listen", "listening on " + config.http.host +
                                " (not loopback) needs an access token: set $ORDERSTREAM_TOKEN, "
                                "http.token_file or http.token");
}

}  // namespace orderstream::config
