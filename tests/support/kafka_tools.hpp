// Kafka from outside the daemon, for end-to-end tests: the embedded cluster's address from the
// daemon's log, and records written with an independent client (kcat).
#pragma once

#include <filesystem>
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

}  // namespace orderstream::testing
