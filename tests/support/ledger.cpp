// See ledger.hpp.
#include "support/ledger.hpp"

#include <regex>
#include <string>

namespace orderstream::testing {

std::map<long, int> processed_in(const nlohmann::json& lines) {
    static const std::regex processed(R"(^(?:\S+ \| )?\[(?:shipping|email|analytics)\] order (\d+)[: ])");
    std::map<long, int> times;
    for (const auto& entry : lines) {
        std::smatch match;
        const std::string line = entry["line"];
        if (std::regex_search(line, match, processed)) ++times[std::stol(match[1])];
    }
    return times;
}

nlohmann::json group_named(const daemon_process& daemon, const std::string& name) {
    const auto groups = daemon.get("/api/groups").json();
    for (const auto& group : groups)
        if (group["group"] == name) return group;
    return nlohmann::json();
}

}  // namespace orderstream::testing
