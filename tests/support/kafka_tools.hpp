// Kafka from outside the daemon, for end-to-end tests: the embedded cluster's address from the
// daemon's log, records written with an independent client (kcat), and bare mock brokers.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "support/daemon_process.hpp"

namespace orderstream::testing {

// The bootstrap address the daemon logged for its embedded cluster; throws when it did not.
std::string embedded_bootstrap(const daemon_process& daemon);

// Writes one record per line of `records_file` ("key<TAB>value"; an empty value is a
// tombstone because of -Z) to `topic` with kcat; `extra` adds kcat options such as headers.
// Throws, with kcat's output, when kcat fails.
void kcat_produce(const std::string& bootstrap, const std::filesystem::path& records_file,
                  const std::string& topic = "orders", const std::string& extra = "");

// librdkafka's mock brokers, served from this process until destroyed: a cluster of `count`
// brokers with no topics, for what only the number of brokers decides. Throws when it cannot.
class mock_brokers {
public:
    explicit mock_brokers(int count);
    ~mock_brokers();
    mock_brokers(const mock_brokers&) = delete;
    mock_brokers& operator=(const mock_brokers&) = delete;
    std::string bootstrap_servers() const;

private:
    struct parts;
    std::unique_ptr<parts> parts_;
};

}  // namespace orderstream::testing
