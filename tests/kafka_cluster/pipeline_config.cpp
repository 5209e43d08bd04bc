// See pipeline_config.hpp.
#include "kafka_cluster/pipeline_config.hpp"

#include <sstream>

namespace orderstream::testing {

std::string pipeline_config::toml() const {
    std::ostringstream out;
    // Enough ring for every line of a whole test, so a slow poll never loses one.
    out << "[capture]\nring_lines = 200000\n\n";
    out << "[kafka]\n";
    if (!bootstrap_servers.empty()) out << "bootstrap_servers = \"" << bootstrap_servers << "\"\n";
    if (!password_file.empty()) out << "password_file = \"" << password_file << "\"\n";
    // A consumer killed with SIGKILL holds its partitions until its session expires; 6 s (the
    // brokers' minimum) instead of librdkafka's 45 s lets the group move on within a test.
    out << "[kafka.properties]\n\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"1000\"\n";
    for (const auto& [key, value] : properties) out << "\"" << key << "\" = \"" << value << "\"\n";
    out << "\n";
    if (orders) {
        // Ends on its own after `orders`; not restarted, so the set of orders is final.
        out << "[[processes]]\nname = \"producer\"\nautorestart = false\n"
            << "args = [\"produce\", \"" << *orders << "\", \"" << delay_seconds << "\", \"--topic\", \""
            << topic << "\"]\n\n";
    }
    if (consumers) {
        for (const char* department : {"shipping", "email", "analytics"}) {
            out << "[[processes]]\nname = \"" << department << "\"\nbackoff_initial_seconds = 0.5\n"
                << "args = [\"consume\", \"" << department << "-group\", \"" << topic << "\"]\n\n";
        }
    }
    return out.str();
}

}  // namespace orderstream::testing
