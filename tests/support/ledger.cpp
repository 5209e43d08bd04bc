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

}  // namespace orderstream::testing
