// The dashboard's model of the pipeline; see pipeline_state.hpp.
#include "pipeline/pipeline_state.hpp"

#include <algorithm>
#include <cctype>

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
    const auto& group_stats = stats->second;
    for (const auto& p : group_stats.offsets.partitions) {
        if (p.partition != t.partition) continue;
        if (p.committed <= t.offset) return order_status::pending;
        if (group_stats.dead_lettered.count({t.partition, t.offset})) return order_status::dead_lettered;
        for (const auto& window : group_stats.skip_windows)
            if (window.covers(t.partition, t.offset)) return order_status::skipped;
        return order_status::lost;
    }
    return order_status::pending;
}

void pipeline_state::add_window(std::deque<offset_window>& windows, std::int32_t partition, std::int64_t from,
                                std::int64_t to) {
    windows.push_back({next_window_++, partition, from, to});
    if (windows.size() > limits_.max_windows) windows.pop_front();
}

void pipeline_state::offsets_reset(const offsets_reset_seen& reset, bool correct_earlier) {
    auto found = stats_.find(reset.group);
    if (found == stats_.end()) return;
    auto& stats = found->second;
    if (std::find(stats.resets.begin(), stats.resets.end(), reset.id) != stats.resets.end()) return;
    stats.resets.push_back(reset.id);
    if (stats.resets.size() > limits_.max_windows) stats.resets.pop_front();
    std::map<std::int32_t, offset_window> replays;  // by partition
    for (const auto& move : reset.moves) {
        // Nothing committed before: where the group would have started is not known here.
        if (move.from < 0 || move.to < 0 || move.to == move.from) continue;
        if (move.to > move.from) {
            add_window(stats.skip_windows, move.partition, move.from, move.to);
            continue;
        }
        add_window(stats.replay_windows, move.partition, move.to, move.from);
        replays[move.partition] = stats.replay_windows.back();
    }
    if (replays.empty() || !correct_earlier || corrections_left_ <= 0) return;
    --corrections_left_;
    // Replays read before the reset itself were counted as duplicates: set them right.
    for (auto& [id, t] : traces_) {
        auto p = t.processed.find(reset.group);
        auto window = replays.find(t.partition);
        if (p == t.processed.end() || window == replays.end() || !window->second.covers(t.partition, t.offset)) continue;
        auto& done = p->second;
        if (done.times - done.replays < 2 || done.last_window >= window->second.seq) continue;
        if (done.times - done.replays == 2) --stats.duplicates;
        done.last_window = window->second.seq;
        ++done.replays;
        ++stats.replayed;
        ++stats.processed;
    }
}

const pipeline_state::redrive* pipeline_state::redriven(std::int32_t partition, std::int64_t offset) const {
    auto found = redrives_.find({partition, offset});
    return found == redrives_.end() ? nullptr : &found->second;
}

void pipeline_state::set_redriven(std::int32_t partition, std::int64_t offset, redrive done) {
    auto [entry, added] = redrives_.try_emplace({partition, offset}, done);
    if (added) {
        redrives_order_.emplace_back(partition, offset);
    } else if (done.count >= entry->second.count) {
        entry->second = done;
    }
    while (redrives_order_.size() > limits_.max_dead_letters) {
        redrives_.erase(redrives_order_.front());
        redrives_order_.pop_front();
    }
}

namespace {

bool contains_ignoring_case(std::string_view text, std::string_view part) {
    auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
    return std::search(text.begin(), text.end(), part.begin(), part.end(),
                       [&](char a, char b) { return lower(a) == lower(b); }) != text.end();
}

}  // namespace

std::vector<const pipeline_state::trace*> pipeline_state::search(const order_query& query) const {
    std::vector<const trace*> found;
    for (auto id = trace_order_.rbegin(); id != trace_order_.rend() && found.size() < query.limit; ++id) {
        auto it = traces_.find(*id);
        if (it == traces_.end() || it->second.produced_ms < 0) continue;
        const trace& t = it->second;
        if (!query.user.empty() && t.user != query.user) continue;
        if (!query.item.empty() && !contains_ignoring_case(t.items, query.item)) continue;
        if (query.min_total && t.total < *query.min_total) continue;
        if (query.max_total && t.total > *query.max_total) continue;
        if (query.from_ms && t.produced_ms < *query.from_ms) continue;
        if (query.to_ms && t.produced_ms >= *query.to_ms) continue;
        found.push_back(&t);
    }
    return found;
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
        return;
    }
    // Processed again: an operator's replay (the oldest window over it not counted yet) or a
    // duplicate.
    const std::int32_t partition = record.partition >= 0 ? record.partition : t.partition;
    const std::int64_t offset = record.partition >= 0 ? record.offset : t.offset;
    for (const auto* windows : {&stats.replay_windows, &stats.redrive_windows})
        for (const auto& window : *windows)
            if (window.seq > p.last_window && window.covers(partition, offset)) {
                p.last_window = window.seq;
                ++p.replays;
                ++stats.replayed;
                ++stats.processed;
                return;
            }
    if (p.times - p.replays == 2) ++stats.duplicates;
}

// A redriven dead letter reaches the groups that had processed its order too: for them it is
// a replay. Its processing may have been read before the order record itself (counted as a
// duplicate then), which is set right here.
void pipeline_state::allow_redrive(trace& t, const order_seen& order) {
    for (auto& [group, p] : t.processed) {
        auto& stats = stats_[group];
        add_window(stats.redrive_windows, order.partition, order.offset, order.offset + 1);
        if (p.times - p.replays < 2) continue;
        if (p.times - p.replays == 2) --stats.duplicates;
        p.last_window = stats.redrive_windows.back().seq;
        ++p.replays;
        ++stats.replayed;
        ++stats.processed;
    }
}

void pipeline_state::apply(observation&& report) {
    for (const auto& order : report.orders) {
        auto& t = trace_for(order.order_id);
        bool first_time = t.produced_ms < 0;
        if (order.redriven > 0) {
            if (!first_time) allow_redrive(t, order);
            if (order.redrive_of_partition >= 0)
                set_redriven(order.redrive_of_partition, order.redrive_of_offset,
                             {order.timestamp_ms, order.redriven, order.partition, order.offset});
        }
        t.partition = order.partition;
        t.offset = order.offset;
        t.produced_ms = order.timestamp_ms;
        t.total = order.total;
        t.user = order.user;
        t.items = order.items;
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
    for (const auto& reset : report.resets) offsets_reset(reset);
    for (auto& letter : report.dead_letters) {
        std::string reason = letter.reason.empty() ? "unknown" : letter.reason;
        if (!dead_letter_counts_.count(reason) && dead_letter_counts_.size() >= limits_.max_reasons) reason = "other";
        ++dead_letter_counts_[reason];
        // The group committed past it without a record: not lost.
        if (auto group = stats_.find(letter.group); group != stats_.end() && letter.source_partition >= 0) {
            auto& stats = group->second;
            if (stats.dead_lettered.insert({letter.source_partition, letter.source_offset}).second)
                stats.dead_lettered_order.emplace_back(letter.source_partition, letter.source_offset);
            if (stats.dead_lettered_order.size() > limits_.max_traces) {
                stats.dead_lettered.erase(stats.dead_lettered_order.front());
                stats.dead_lettered_order.pop_front();
            }
        }
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
    corrections_left_ = max_corrections_per_tick;
    for (auto& [group, stats] : stats_) {
        current_.lag[group] = group_lag(stats);
        current_.p50[group] = percentile(stats.second_latencies, 0.5);
        current_.p99[group] = percentile(stats.second_latencies, 0.99);
        stats.second_latencies.clear();
        stats.lost = stats.lost_forgotten;
        stats.skipped = 0;
    }
    history_.push_back(std::move(current_));
    current_ = {};
    if (history_.size() > limits_.history_seconds) history_.pop_front();

    for (const auto& [id, t] : traces_) {
        if (t.partition < 0) continue;
        for (const auto& group : groups_) {
            const auto now = status(t, group);
            if (now == order_status::lost) ++stats_[group].lost;
            if (now == order_status::skipped) ++stats_[group].skipped;
        }
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
        // A cluster the pipeline waits for (too few brokers) has no offsets to give either.
        const bool cluster_usable = (cluster_.reachable && !cluster_waiting()) || !cluster_seen_;
        verdicts_[group] = health.evaluate(now_ms, readable && cluster_usable,
                                           members == local_members_.end() ? none : members->second,
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
