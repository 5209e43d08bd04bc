// Reads and validates the TOML config file; the daemon starts only from a config that passed.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "config/daemon_config.hpp"

namespace orderstream::config {

// Carries a message that names the offending key, e.g. "processes[2].terminal: duplicate ...".
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

daemon_config load_config_file(const std::string& path);
daemon_config parse_config(std::string_view toml_text, std::string_view source_name = "config");

// Checks cross-field rules (also after command-line overrides) and fills in the default process
// list when none is configured. Throws config_error.
void finalize(daemon_config& config);

// "HOST:PORT" (IPv6 as "[::1]:8080"); throws config_error naming `key`.
void parse_listen(std::string_view text, std::string_view key, http_config& http);

}  // namespace orderstream::config
