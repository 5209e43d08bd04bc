// Small facts derived from a process's settings; see daemon_config.hpp.
#include "config/daemon_config.hpp"

namespace orderstream::config {

std::string instance_name(const std::string& name, int instance) {
    return instance <= 1 ? name : name + "-" + std::to_string(instance);
}

std::vector<std::string> consume_positionals(const process_config& process) {
    std::vector<std::string> positionals;
    if (!process.command.empty() || process.args.empty() || process.args[0] != "consume") return positionals;
    for (std::size_t i = 1; i < process.args.size(); ++i) {
        const auto& arg = process.args[i];
        if (arg.size() > 1 && arg[0] == '-') {
            bool value_attached = arg.find('=') != std::string::npos || (arg[1] != '-' && arg.size() > 2);
            if (!value_attached) ++i;
            continue;
        }
        positionals.push_back(arg);
    }
    return positionals;
}

std::string consumer_group(const process_config& process) {
    auto positionals = consume_positionals(process);
    return positionals.empty() ? std::string() : positionals[0];
}

}  // namespace orderstream::config
