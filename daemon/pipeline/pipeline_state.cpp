// The dashboard's model of the pipeline; see pipeline_state.hpp.
#include "pipeline/pipeline_state.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace orderstream::pipeline {
namespace {

using json = nlohmann::json;

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::int64_t percentile(std::vector<std::int64_t> values, double fraction) {
    if (values.empty()) return -1;
    std::size_t index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
    std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
    return values[index];
}

json optional_number(std::int64_t value) { return value < 0 ? json(nullptr) : json(value); }

}  // namespace

pipeline_state::pipeline_state(std::vector<std::string> groups, bool embedded, state_limits limits)
    : groups_(std::move(groups)), embedded_(embedded), limits_(limits) {
    for (const auto& group : groups_) stats_[group].offsets.group = group;
}

pipeline_state::trace& pipeline_state::trace_for(std::int64_t order_id) {
    auto [it, inserted] = traces_.try_emplace(order_id);
    if (inserted) {
        it->second.order_id = order_id;
        trace_order_.push_back(order_id);
        if (trace_order_.size() > limits_.max_traces) {
            traces_.erase(trace_order_.front());
            trace_order_.pop_front();
        }
        return traces_[order_id];
    }
    return it->second;
}

void pipeline_state::record_latency(const std::string& group, std::int64_t ms) {
    auto& stats = stats_[group];
    stats.latencies.push_back(ms);
    if (stats.latencies.size() > limits_.latency_window) stats.latencies.pop_front();
    stats.second_latencies.push_back(ms);
}

void pipeline_state::apply(observation&& report, std::int64_t now_ms) {
    for (const auto& order : report.orders) {
        auto& t = trace_for(order.order_id);
        bool first_time = t.produced_ms < 0;
        t.partition = order.partition;
        t.offset = order.offset;
        t.produced_ms = order.timestamp_ms;
        t.total = order.total;
        auto& offsets = offsets_[order.partition];
        offsets[order.offset] = order.timestamp_ms;
        if (offsets.size() > limits_.max_traces) offsets.erase(offsets.begin());
        if (!first_time) continue;
        ++orders_seen_;
        revenue_seen_ += order.total;
        ++current_.orders;
        current_.revenue += order.total;
        // Acknowledgements that arrived before the order itself.
        for (const auto& [group, p] : t.processed) record_latency(group, std::max<std::int64_t>(0, p.processed_ms - t.produced_ms));
    }
    for (const auto& ack : report.acks) {
        if (!stats_.count(ack.group) && stats_.size() >= limits_.max_groups) continue;
        auto& t = trace_for(ack.order_id);
        auto& p = t.processed[ack.group];
        auto& stats = stats_[ack.group];
        if (stats.offsets.group.empty()) stats.offsets.group = ack.group;
        if (!ack.member.empty() && ack.partition >= 0) {
            auto& holder = stats.owners[ack.partition];
            // Acks of one partition reach us out of order (they are spread over the acks topic's
            // partitions): only a newer ack from another member is a change of hands.
            if (holder.member != ack.member && ack.processed_ms >= holder.last_ms) {
                stats.rebalances.push_back({ack.processed_ms, ack.partition, holder.member, ack.member});
                if (stats.rebalances.size() > limits_.max_rebalances) stats.rebalances.pop_front();
                holder.member = ack.member;
            }
            holder.last_ms = std::max(holder.last_ms, ack.processed_ms);
        }
        if (++p.times == 1) {
            p.processed_ms = ack.processed_ms;
            ++stats.processed;
            if (t.produced_ms >= 0) record_latency(ack.group, std::max<std::int64_t>(0, ack.processed_ms - t.produced_ms));
        } else {
            ++stats.duplicates;
        }
    }
    for (auto& letter : report.dead_letters) {
        std::string reason = letter.reason.empty() ? "unknown" : letter.reason;
        if (!dead_letter_counts_.count(reason) && dead_letter_counts_.size() >= limits_.max_reasons) reason = "other";
        ++dead_letter_counts_[reason];
        dead_letters_.push_back(std::move(letter));
        if (dead_letters_.size() > limits_.max_dead_letters) dead_letters_.pop_front();
    }
    if (report.cluster) {
        cluster_ = std::move(*report.cluster);
        cluster_seen_ = true;
        for (const auto& [id, address] : cluster_.brokers) brokers_ever_[id] = address;
    }
    if (report.groups)
        for (auto& snapshot : *report.groups) stats_[snapshot.group].offsets = std::move(snapshot);
    (void)now_ms;
}

void pipeline_state::tick(std::int64_t now_ms) {
    current_.t_ms = now_ms;
    for (auto& [group, stats] : stats_) {
        current_.lag[group] = group_lag(stats);
        current_.p50[group] = percentile(stats.second_latencies, 0.5);
        current_.p99[group] = percentile(stats.second_latencies, 0.99);
        stats.second_latencies.clear();
        stats.lost = 0;
    }
    history_.push_back(std::move(current_));
    current_ = {};
    if (history_.size() > limits_.history_seconds) history_.pop_front();

    for (const auto& [id, t] : traces_) {
        if (t.produced_ms < 0 || now_ms - t.produced_ms < limits_.lost_after_ms) continue;
        for (const auto& group : groups_)
            if (!t.processed.count(group)) ++stats_[group].lost;
    }
}

std::int64_t pipeline_state::group_lag(const group_stats& stats) const {
    std::int64_t lag = 0;
    for (const auto& p : stats.offsets.partitions)
        if (p.end >= 0) lag += std::max<std::int64_t>(0, p.end - std::max<std::int64_t>(0, p.committed));
    return lag;
}

// How long the oldest unprocessed order has waited, where we saw that order.
std::optional<std::int64_t> pipeline_state::lag_seconds(const group_stats& stats, std::int64_t now_ms) const {
    std::optional<std::int64_t> worst;
    for (const auto& p : stats.offsets.partitions) {
        if (p.end < 0 || p.committed >= p.end) continue;
        auto partition = offsets_.find(p.partition);
        if (partition == offsets_.end()) continue;
        auto next = partition->second.lower_bound(std::max<std::int64_t>(0, p.committed));
        if (next == partition->second.end()) continue;
        std::int64_t waited = std::max<std::int64_t>(0, now_ms - next->second) / 1000;
        worst = std::max(worst.value_or(0), waited);
    }
    return worst;
}

double pipeline_state::orders_per_second() const {
    return history_.empty() ? 0.0 : static_cast<double>(history_.back().orders);
}

std::int64_t pipeline_state::total_lag() const {
    std::int64_t lag = 0;
    for (const auto& [group, stats] : stats_) lag += group_lag(stats);
    return lag;
}

std::string pipeline_state::cluster_json() const {
    json brokers = json::array();
    std::set<std::int32_t> up;
    for (const auto& [id, address] : cluster_.brokers) up.insert(id);
    for (const auto& [id, address] : brokers_ever_)
        brokers.push_back({{"id", id}, {"address", address}, {"up", cluster_.reachable && up.count(id) > 0 && !brokers_down_.count(id)}});
    std::map<std::string, json> topics;
    for (const auto& p : cluster_.partitions) {
        auto& topic = topics[p.topic];
        if (topic.is_null()) topic = {{"name", p.topic}, {"partitions", json::array()}};
        topic["partitions"].push_back({{"partition", p.partition},
                                       {"leader", p.leader},
                                       {"replicas", p.replicas},
                                       {"isr", p.isrs},
                                       {"under_replicated", p.isrs.size() < p.replicas.size()}});
    }
    json topic_list = json::array();
    for (auto& [name, topic] : topics) {
        std::sort(topic["partitions"].begin(), topic["partitions"].end(),
                  [](const json& a, const json& b) { return a["partition"] < b["partition"]; });
        topic_list.push_back(std::move(topic));
    }
    return dump({{"reachable", cluster_.reachable},
                 {"checked", cluster_seen_},
                 {"error", cluster_.error.empty() ? json(nullptr) : json(cluster_.error)},
                 {"embedded", embedded_},
                 {"brokers", brokers},
                 {"topics", topic_list}});
}

std::string pipeline_state::groups_json(std::int64_t now_ms) const {
    json list = json::array();
    for (const auto& [group, stats] : stats_) {
        json partitions = json::array();
        for (const auto& p : stats.offsets.partitions) {
            std::int64_t lag = p.end >= 0 ? std::max<std::int64_t>(0, p.end - std::max<std::int64_t>(0, p.committed)) : -1;
            partitions.push_back({{"partition", p.partition},
                                  {"committed", optional_number(p.committed)},
                                  {"end", optional_number(p.end)},
                                  {"lag", optional_number(lag)}});
        }
        std::vector<std::int64_t> window(stats.latencies.begin(), stats.latencies.end());
        auto seconds = lag_seconds(stats, now_ms);
        json assignment = json::object();
        for (const auto& [partition, holder] : stats.owners) {
            if (now_ms - holder.last_ms > limits_.member_idle_ms) continue;
            if (!assignment.contains(holder.member)) assignment[holder.member] = json::array();
            assignment[holder.member].push_back(partition);
        }
        json rebalances = json::array();
        for (const auto& r : stats.rebalances)
            rebalances.push_back({{"t_ms", r.t_ms}, {"partition", r.partition},
                                  {"from", r.from.empty() ? json(nullptr) : json(r.from)}, {"to", r.to}});
        list.push_back({{"group", group},
                        {"partitions", partitions},
                        {"assignment", assignment},
                        {"rebalances", rebalances},
                        {"lag", group_lag(stats)},
                        {"lag_seconds", seconds ? json(*seconds) : json(nullptr)},
                        {"processed", stats.processed},
                        {"duplicates", stats.duplicates},
                        {"lost", stats.lost},
                        {"latency_ms", {{"p50", optional_number(percentile(window, 0.5))},
                                        {"p99", optional_number(percentile(window, 0.99))}}}});
    }
    return dump(list);
}

std::optional<std::string> pipeline_state::order_json(std::int64_t order_id, std::int64_t now_ms) const {
    auto found = traces_.find(order_id);
    if (found == traces_.end()) return std::nullopt;
    const auto& t = found->second;
    json produced = t.produced_ms < 0 ? json(nullptr)
                                      : json{{"partition", t.partition}, {"offset", t.offset}, {"timestamp_ms", t.produced_ms}};
    json processed = json::object();
    json pending = json::array();
    for (const auto& group : groups_) {
        auto p = t.processed.find(group);
        if (p == t.processed.end()) {
            pending.push_back(group);
            continue;
        }
        processed[group] = {{"timestamp_ms", p->second.processed_ms},
                            {"latency_ms", t.produced_ms < 0 ? json(nullptr) : json(p->second.processed_ms - t.produced_ms)},
                            {"times", p->second.times}};
    }
    for (const auto& [group, p] : t.processed)
        if (!processed.contains(group))
            processed[group] = {{"timestamp_ms", p.processed_ms}, {"latency_ms", nullptr}, {"times", p.times}};
    bool lost = t.produced_ms >= 0 && now_ms - t.produced_ms >= limits_.lost_after_ms && !pending.empty();
    return dump({{"order_id", t.order_id},
                 {"total", t.total},
                 {"produced", produced},
                 {"processed", processed},
                 {"pending", pending},
                 {"lost", lost}});
}

std::string pipeline_state::history_json() const {
    json points = json::array();
    for (const auto& point : history_) {
        json p50 = json::object(), p99 = json::object();
        for (const auto& [group, value] : point.p50) p50[group] = optional_number(value);
        for (const auto& [group, value] : point.p99) p99[group] = optional_number(value);
        points.push_back({{"t_ms", point.t_ms}, {"orders", point.orders}, {"revenue", point.revenue},
                          {"lag", point.lag}, {"p50_ms", p50}, {"p99_ms", p99}});
    }
    return dump({{"interval_seconds", 1}, {"points", points}});
}

std::string pipeline_state::dead_letters_json() const {
    json letters = json::array();
    for (auto it = dead_letters_.rbegin(); it != dead_letters_.rend(); ++it)
        letters.push_back({{"reason", it->reason}, {"detail", it->detail}, {"group", it->group},
                           {"partition", it->source_partition}, {"offset", it->source_offset},
                           {"timestamp_ms", it->timestamp_ms}, {"value", it->value_preview}});
    return dump({{"counts", dead_letter_counts_}, {"recent", letters}});
}

std::string pipeline_state::live_json() const {
    json groups = json::object();
    for (const auto& [group, stats] : stats_) {
        std::vector<std::int64_t> window(stats.latencies.begin(), stats.latencies.end());
        groups[group] = {{"lag", group_lag(stats)}, {"lost", stats.lost}, {"duplicates", stats.duplicates},
                         {"processed", stats.processed}, {"p99_ms", optional_number(percentile(window, 0.99))}};
    }
    const history_point* last = history_.empty() ? nullptr : &history_.back();
    return dump({{"orders_per_second", last ? last->orders : 0},
                 {"revenue_per_second", last ? last->revenue : 0.0},
                 {"orders", orders_seen_},
                 {"cluster_reachable", cluster_.reachable},
                 {"groups", groups}});
}

void pipeline_state::write_metrics(http::prometheus_writer& out) const {
    out.family("orderstream_kafka_reachable", "gauge", "1 while the cluster answers metadata requests.");
    out.sample("orderstream_kafka_reachable", cluster_.reachable ? 1 : 0);
    out.family("orderstream_orders_produced_total", "counter", "Orders seen in the orders topic (acknowledged by the cluster).");
    out.sample("orderstream_orders_produced_total", static_cast<double>(orders_seen_));
    out.family("orderstream_revenue_total", "counter", "Sum of the totals of the orders produced.");
    out.sample("orderstream_revenue_total", revenue_seen_);
    out.family("orderstream_orders_processed_total", "counter", "Orders a consumer group acknowledged (first time only).");
    for (const auto& [group, stats] : stats_) out.sample("orderstream_orders_processed_total", {{"group", group}}, static_cast<double>(stats.processed));
    out.family("orderstream_orders_duplicates_total", "counter", "Orders a consumer group processed more than once.");
    for (const auto& [group, stats] : stats_) out.sample("orderstream_orders_duplicates_total", {{"group", group}}, static_cast<double>(stats.duplicates));
    out.family("orderstream_orders_lost", "gauge", "Orders produced over the grace period ago and not processed by the group.");
    for (const auto& [group, stats] : stats_) out.sample("orderstream_orders_lost", {{"group", group}}, static_cast<double>(stats.lost));
    out.family("orderstream_consumer_lag", "gauge", "Records in the orders topic not yet committed by the group.");
    for (const auto& [group, stats] : stats_) out.sample("orderstream_consumer_lag", {{"group", group}}, static_cast<double>(group_lag(stats)));
    out.family("orderstream_dead_letters_total", "counter", "Records forwarded to orders.dlq, by reason.");
    for (const auto& [reason, count] : dead_letter_counts_) out.sample("orderstream_dead_letters_total", {{"reason", reason}}, static_cast<double>(count));
}

}  // namespace orderstream::pipeline
