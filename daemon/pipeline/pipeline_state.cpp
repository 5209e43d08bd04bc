// The dashboard's model of the pipeline; see pipeline_state.hpp.
#include "pipeline/pipeline_state.hpp"

#include <algorithm>

namespace orderstream::pipeline {

std::int64_t percentile(std::vector<std::int64_t> values, double fraction) {
    if (values.empty()) return -1;
    std::size_t index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
    std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
    return values[index];
}

pipeline_state::pipeline_state(std::vector<std::string> groups, bool embedded, state_limits limits)
    : groups_(std::move(groups)), embedded_(embedded), limits_(limits) {
    for (const auto& group : groups_) stats_[group].offsets.group = group;
}

const pipeline_state::trace* pipeline_state::find_trace(std::int64_t order_id) const {
    auto found = traces_.find(order_id);
    return found == traces_.end() ? nullptr : &found->second;
}

pipeline_state::order_status pipeline_state::status(const trace& t, const std::string& group) const {
    if (t.processed.count(group)) return order_status::processed;
    if (t.partition < 0) return order_status::pending;  // the order itself not seen yet
    auto stats = stats_.find(group);
    if (stats == stats_.end()) return order_status::pending;
    for (const auto& p : stats->second.offsets.partitions)
        if (p.partition == t.partition) return p.committed > t.offset ? order_status::lost : order_status::pending;
    return order_status::pending;
}

pipeline_state::trace& pipeline_state::trace_for(std::int64_t order_id) {
    auto [it, inserted] = traces_.try_emplace(order_id);
    if (!inserted) return it->second;
    it->second.order_id = order_id;
    trace_order_.push_back(order_id);
    if (trace_order_.size() > limits_.max_traces) forget_oldest_trace();
    return traces_.at(order_id);
}

// A lost order stays counted after its trace is gone.
void pipeline_state::forget_oldest_trace() {
    auto oldest = traces_.find(trace_order_.front());
    trace_order_.pop_front();
    if (oldest == traces_.end()) return;
    for (const auto& group : groups_)
        if (status(oldest->second, group) == order_status::lost) ++stats_[group].lost_forgotten;
    traces_.erase(oldest);
}

void pipeline_state::record_latency(const std::string& group, std::int64_t ms) {
    auto& stats = stats_[group];
    stats.latencies.push_back(ms);
    if (stats.latencies.size() > limits_.latency_window) stats.latencies.pop_front();
    stats.second_latencies.push_back(ms);
}

void pipeline_state::apply_processing(const processing_seen& record) {
    if (!stats_.count(record.group) && stats_.size() >= limits_.max_groups) return;
    auto& t = trace_for(record.order_id);
    auto& p = t.processed[record.group];
    auto& stats = stats_[record.group];
    if (stats.offsets.group.empty()) stats.offsets.group = record.group;
    const std::string& label = record.client.empty() ? record.member : record.client;
    // Partitions come from records anyone can write: a group tracks at most max_partitions.
    bool known = stats.owners.count(record.partition) || stats.owners.size() < limits_.max_partitions;
    if (!label.empty() && record.partition >= 0 && known) {
        auto& holder = stats.owners[record.partition];
        // Records of different members reach us out of order (they are spread over the topic's
        // partitions): only a newer record from another member is a change of hands.
        if (holder.member != label && record.processed_ms >= holder.last_ms) {
            stats.rebalances.push_back({record.processed_ms, record.partition, holder.member, label});
            if (stats.rebalances.size() > limits_.max_rebalances) stats.rebalances.pop_front();
            holder.member = label;
            holder.member_id = record.member;
        }
        holder.last_ms = std::max(holder.last_ms, record.processed_ms);
    }
    if (++p.times == 1) {
        p.processed_ms = record.processed_ms;
        ++stats.processed;
        if (t.produced_ms >= 0) record_latency(record.group, std::max<std::int64_t>(0, record.processed_ms - t.produced_ms));
    } else if (p.times == 2) {
        ++stats.duplicates;
    }
}

void pipeline_state::apply(observation&& report) {
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
        // Records that arrived before the order itself.
        for (const auto& [group, p] : t.processed) record_latency(group, std::max<std::int64_t>(0, p.processed_ms - t.produced_ms));
    }
    for (const auto& record : report.processing) apply_processing(record);
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
        for (auto& snapshot : *report.groups) {
            if (!stats_.count(snapshot.group) && stats_.size() >= limits_.max_groups) continue;
            auto& stats = stats_[snapshot.group];
            stats.offsets = std::move(snapshot);
            stats.offsets_fresh = true;
        }
}

void pipeline_state::tick(std::int64_t now_ms) {
    current_.t_ms = now_ms;
    for (auto& [group, stats] : stats_) {
        current_.lag[group] = group_lag(stats);
        current_.p50[group] = percentile(stats.second_latencies, 0.5);
        current_.p99[group] = percentile(stats.second_latencies, 0.99);
        stats.second_latencies.clear();
        stats.lost = stats.lost_forgotten;
    }
    history_.push_back(std::move(current_));
    current_ = {};
    if (history_.size() > limits_.history_seconds) history_.pop_front();

    for (const auto& [id, t] : traces_) {
        if (t.partition < 0) continue;
        for (const auto& group : groups_)
            if (status(t, group) == order_status::lost) ++stats_[group].lost;
    }
    judge_groups(now_ms);
}

void pipeline_state::judge_groups(std::int64_t now_ms) {
    if (first_tick_ms_ < 0) first_tick_ms_ = now_ms;
    const auto window = limits_.health_window_ms;
    for (const auto& group : groups_) {
        auto& stats = stats_[group];
        auto& health = health_.try_emplace(group, window).first->second;
        if (stats.offsets_fresh) {
            health.sample(now_ms, stats.offsets.partitions);
            stats.offsets_fresh = false;
            stats.offsets_ms = now_ms;
        }
        // Not read yet right after the start is no failure.
        const bool readable = stats.offsets_ms >= 0 ? now_ms - stats.offsets_ms <= window : now_ms - first_tick_ms_ <= window;
        static const std::vector<local_member> none;
        auto members = local_members_.find(group);
        verdicts_[group] = health.evaluate(now_ms, readable && (cluster_.reachable || !cluster_seen_), members == local_members_.end() ? none : members->second,
                                           stats.offsets.members);
    }
}

const group_verdict* pipeline_state::health(const std::string& group) const {
    auto it = verdicts_.find(group);
    return it == verdicts_.end() ? nullptr : &it->second;
}

std::int64_t pipeline_state::partition_lag(const group_partition& p) {
    return p.end < 0 ? -1 : std::max<std::int64_t>(0, p.end - std::max<std::int64_t>(0, p.committed));
}

std::int64_t pipeline_state::latency_percentile(const group_stats& stats, double fraction) {
    return percentile({stats.latencies.begin(), stats.latencies.end()}, fraction);
}

std::int64_t pipeline_state::group_lag(const group_stats& stats) const {
    std::int64_t lag = 0;
    for (const auto& p : stats.offsets.partitions) lag += std::max<std::int64_t>(0, partition_lag(p));
    return lag;
}

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

}  // namespace orderstream::pipeline
