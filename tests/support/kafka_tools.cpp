// See kafka_tools.hpp.
#include "support/kafka_tools.hpp"

#include <regex>
#include <stdexcept>

namespace orderstream::testing {

std::string embedded_bootstrap(const daemon_process& daemon) {
    std::smatch match;
    const std::string log = daemon.log();
    static const std::regex address(R"(embedded \d+-broker cluster at (\S+))");
    if (!std::regex_search(log, match, address)) throw std::runtime_error("the daemon logged no embedded cluster:\n" + log);
    return match[1];
}

void kcat_produce(const std::string& bootstrap, const std::filesystem::path& records_file, const std::string& topic,
                  const std::string& extra) {
    auto result = run_shell("kcat -P -b " + bootstrap + " -t " + topic + " -K '\t' -Z -X message.max.bytes=2000000 " +
                            extra + " -l " + records_file.string());
    if (result.exit_code != 0) throw std::runtime_error("kcat failed: " + result.output);
}

}  // namespace orderstream::testing
