// See order_ledger.hpp.
#include "kafka_cluster/order_ledger.hpp"

#include <regex>
#include <sstream>

namespace orderstream::testing {

namespace {

// "Delivered order 1001 to orders [2] at offset 17"
const std::regex delivered_line(R"(^Delivered order (\d+) to (\S+) \[(\d+)\] at offset (\d+)$)");
// "[shipping] order 1001 for alice: ...", "[email] order 1001: ...", "[analytics] order 1001: ..."
const std::regex processed_line(R"(^\[(shipping|email|analytics)\] order (\d+)[: ])");
const std::regex dead_letter_line(R"(^\[(shipping|email|analytics)\] dead letter at )");

}  // namespace

void order_ledger::add(const std::string& terminal, const std::string& line) {
    std::smatch match;
    if (terminal == "producer") {
        if (std::regex_match(line, match, delivered_line)) {
            const auto id = std::stoll(match[1]);
            delivery where{match[2], std::stoi(match[3]), std::stoll(match[4])};
            auto [it, inserted] = delivered_.emplace(id, where);
            if (!inserted && (it->second.partition != where.partition ||
                              it->second.offset != where.offset || it->second.topic != where.topic))
                reused_ids_.push_back(line);
        } else if (line.rfind("Delivery failed for order ", 0) == 0) {
            ++delivery_failures_;
        } else if (line.rfind("Producer stopped: ", 0) == 0) {
            producer_summaries_.push_back(line);
        }
        return;
    }
    if (std::regex_search(line, match, processed_line)) {
        // A department's line in its own terminal only: a consumer that printed another
        // department's tag would be a bug worth seeing as a missing order.
        if (match[1] == terminal) ++processed_[terminal][std::stoll(match[2])];
    } else if (std::regex_search(line, match, dead_letter_line)) {
        ++dead_letters_[terminal];
    }
}

const std::map<std::int64_t, int>& order_ledger::processed(const std::string& group) const {
    static const std::map<std::int64_t, int> none;
    auto it = processed_.find(group);
    return it == processed_.end() ? none : it->second;
}

std::vector<std::int64_t> order_ledger::missing(const std::string& group) const {
    std::vector<std::int64_t> ids;
    const auto& done = processed(group);
    for (const auto& [id, where] : delivered_)
        if (!done.count(id)) ids.push_back(id);
    return ids;
}

std::size_t order_ledger::duplicated_orders(const std::string& group) const {
    std::size_t n = 0;
    for (const auto& [id, times] : processed(group)) n += times > 1 && delivered_.count(id);
    return n;
}

std::size_t order_ledger::extra_runs(const std::string& group) const {
    std::size_t n = 0;
    for (const auto& [id, times] : processed(group))
        if (times > 1 && delivered_.count(id)) n += static_cast<std::size_t>(times - 1);
    return n;
}

std::size_t order_ledger::dead_letters(const std::string& group) const {
    auto it = dead_letters_.find(group);
    return it == dead_letters_.end() ? 0 : it->second;
}

bool order_ledger::all_processed() const {
    for (const auto& group : groups())
        if (!missing(group).empty()) return false;
    return true;
}

std::string order_ledger::summary(std::size_t max_ids) const {
    std::ostringstream text;
    text << delivered_.size() << " orders delivered, " << delivery_failures_
         << " delivery failures, " << reused_ids_.size() << " reused ids";
    for (const auto& line : producer_summaries_) text << "; \"" << line << "\"";
    text << "\n";
    for (const auto& group : groups()) {
        const auto gone = missing(group);
        text << "  " << group << ": " << processed(group).size() << " distinct orders processed, "
             << gone.size() << " delivered ones missing, " << duplicated_orders(group)
             << " processed more than once, " << dead_letters(group) << " dead letters";
        for (std::size_t i = 0; i < gone.size() && i < max_ids; ++i) {
            const auto& where = delivered_.at(gone[i]);
            text << (i ? ", " : "; missing e.g. ") << gone[i] << " (" << where.topic << " ["
                 << where.partition << "] @" << where.offset << ")";
        }
        text << "\n";
    }
    return text.str();
}

}  // namespace orderstream::testing
