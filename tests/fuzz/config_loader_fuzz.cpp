// libFuzzer target: any text given as a config file is either a valid config or a config_error;
// no other exception, no crash.
#include <cstdlib>

#include "config/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto config = orderstream::config::parse_config(text, "fuzz.toml");
        orderstream::config::finalize(config);
        if (config.processes.empty()) std::abort();  // finalize always leaves processes to run
    } catch (const orderstream::config::config_error&) {
    }
    return 0;
}
