// What the pipeline really did, read from its children's output lines: the producer's delivery
// reports and each department's processed orders. Nothing here comes from what a test asked for.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace orderstream::testing {

struct delivery {
    std::string topic;
    int partition = -1;
    std::int64_t offset = -1;
};

class order_ledger {
public:
    // The consumer terminals and the tag of their department's lines.
    static const std::vector<std::string>& groups() {
        static const std::vector<std::string> names{"shipping", "email", "analytics"};
        return names;
    }

    // One line of the terminal `terminal`; the producer's terminal is "producer", the
    // consumers' are named after their department.
    void add(const std::string& terminal, const std::string& line);

    const std::map<std::int64_t, delivery>& delivered() const { return delivered_; }
    // Delivery reports naming an order already reported delivered at another place: an id used
    // twice (e.g. by a restarted producer), which would hide losses.
    const std::vector<std::string>& reused_ids() const { return reused_ids_; }
    std::size_t delivery_failures() const { return delivery_failures_; }
    const std::vector<std::string>& producer_summaries() const { return producer_summaries_; }
    bool producer_stopped() const { return !producer_summaries_.empty(); }

    // Times each order id was processed by the department.
    const std::map<std::int64_t, int>& processed(const std::string& group) const;
    // Delivered ids the department has not processed.
    std::vector<std::int64_t> missing(const std::string& group) const;
    // Delivered orders the department processed more than once, and the extra runs in all.
    std::size_t duplicated_orders(const std::string& group) const;
    std::size_t extra_runs(const std::string& group) const;
    std::size_t dead_letters(const std::string& group) const;
    bool all_processed() const;

    // One paragraph for failure messages: counts per group and the first missing ids with
    // where they were delivered.
    std::string summary(std::size_t max_ids = 15) const;

private:
    std::map<std::int64_t, delivery> delivered_;
    std::vector<std::string> reused_ids_;
    std::size_t delivery_failures_ = 0;
    std::vector<std::string> producer_summaries_;
    std::map<std::string, std::map<std::int64_t, int>> processed_;
    std::map<std::string, std::size_t> dead_letters_;
};

}  // namespace orderstream::testing
