// Applies and checks librdkafka properties.
#include "kafka/client_config.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include <librdkafka/rdkafka.h>

#include "kafka/kafka_log.hpp"
#include "log/logger.hpp"

namespace orderstream::kafka {

namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(' ');
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// Property name to 'C' (consumer), 'P' (producer) or '*' (both), read from the table librdkafka
// prints about itself, so it always matches the linked library version.
std::map<std::string, char> read_property_scopes() {
    std::map<std::string, char> scopes;
    char* buffer = nullptr;
    std::size_t size = 0;
    FILE* stream = open_memstream(&buffer, &size);
    if (!stream) return scopes;
    rd_kafka_conf_properties_show(stream);
    std::fclose(stream);
    std::istringstream table(std::string(buffer, size));
    std::free(buffer);
    std::string line;
    while (std::getline(table, line)) {
        // "session.timeout.ms                       |  C  | 1 .. 3600000 | ..."
        const auto bar1 = line.find('|');
        const auto bar2 = bar1 == std::string::npos ? bar1 : line.find('|', bar1 + 1);
        if (bar2 == std::string::npos) continue;
        const std::string scope = trim(line.substr(bar1 + 1, bar2 - bar1 - 1));
        if (scope == "C" || scope == "P" || scope == "*") {
            scopes[trim(line.substr(0, bar1))] = scope[0];
        }
    }
    return scopes;
}

}  // namespace

bool applies_to(const std::string& name, client_kind kind) {
    static const std::map<std::string, char> scopes = read_property_scopes();
    const auto it = scopes.find(name);
    if (it == scopes.end() || it->second == '*') return true;
    return it->second == (kind == client_kind::producer ? 'P' : 'C');
}

bool set_property(RdKafka::Conf& conf, const std::string& name, const std::string& value,
                  std::string& error) {
    std::string errstr;
    if (conf.set(name, value, errstr) != RdKafka::Conf::CONF_OK) {
        error = "invalid Kafka property " + name + "=" + value + ": " + errstr;
        return false;
    }
    return true;
}

std::unique_ptr<RdKafka::Conf> make_client_conf(const client_options& options, client_kind kind,
                                                const property_list& defaults, std::string& error) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    if (!conf) {
        error = "cannot allocate a Kafka configuration";
        return nullptr;
    }
    if (!options.bootstrap_servers.empty() &&
        !set_property(*conf, "bootstrap.servers", options.bootstrap_servers, error)) {
        return nullptr;
    }
    for (const auto& [name, value] : defaults) {
        if (!set_property(*conf, name, value, error)) return nullptr;
    }
    for (const auto& [name, value] : options.properties) {
        if (!applies_to(name, kind)) {
            kafka_log()->debug("not passing {} to a {}: librdkafka ignores it there", name,
                               kind == client_kind::producer ? "producer" : "consumer");
            continue;
        }
        if (!set_property(*conf, name, value, error)) return nullptr;
    }
    return conf;
}

void client_events::event_cb(RdKafka::Event& event) {
    if (event.type() != RdKafka::Event::EVENT_ERROR && event.type() != RdKafka::Event::EVENT_LOG) return;
    log::get("kafka")->debug("{} {}", event.fac(), event.str());
    if (event.type() == RdKafka::Event::EVENT_ERROR &&
        (event.err() == RdKafka::ERR__AUTHENTICATION || event.err() == RdKafka::ERR__SSL)) {
        std::lock_guard<std::mutex> lock(mutex_);
        last_access_error_ = event.str();
    }
}

std::string client_events::access_error() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_access_error_;
}

void client_events::cluster_answered() {
    std::lock_guard<std::mutex> lock(mutex_);
    last_access_error_.clear();
}

}  // namespace orderstream::kafka
