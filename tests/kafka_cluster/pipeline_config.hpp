// The daemon config of the cluster tests: one producer and the three departments on one topic.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orderstream::testing {

struct pipeline_config {
    std::string topic;
    // Empty: no [kafka] bootstrap_servers (the test passes --bootstrap-servers instead).
    std::string bootstrap_servers;
    // `orderstream produce` with these orders and delay; no producer when unset.
    std::optional<long> orders;
    double delay_seconds = 0.003;
    bool consumers = true;
    // More [kafka.properties] (e.g. SASL), and the SASL password's file.
    std::vector<std::pair<std::string, std::string>> properties;
    std::string password_file;

    std::string toml() const;
};

}  // namespace orderstream::testing
