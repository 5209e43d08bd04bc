// JSON views of the pipeline model; see pipeline_json.hpp.
#include "http/pipeline_json.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace orderstream::http {
namespace {

using json = nlohmann::json;
using pipeline::pipeline_state;

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

json optional_number(std::int64_t value) { return value < 0 ? json(nullptr) : json(value); }

struct member_row {
    std::string label, member_id, host;
    std::vector<std::int32_t> partitions;
};

// The cluster's own description when it gives one, else who wrote records lately.
std::vector<member_row> members_of(const pipeline_state& state, const pipeline_state::group_stats& stats,
                                   std::int64_t now_ms) {
    std::vector<member_row> rows;
    if (stats.offsets.described) {
        for (const auto& m : stats.offsets.members)
            rows.push_back({m.client_id.empty() ? m.member_id : m.client_id, m.member_id, m.host, m.partitions});
        return rows;
    }
    std::map<std::string, member_row> by_label;
    for (const auto& [partition, holder] : stats.owners) {
        if (now_ms - holder.last_ms > state.limits().member_idle_ms) continue;
        auto& row = by_label[holder.member];
        row.label = holder.member;
        row.member_id = holder.member_id;
        row.partitions.push_back(partition);
    }
    for (auto& [label, row] : by_label) rows.push_back(std::move(row));
    return rows;
}

json health_json(const pipeline::group_verdict* verdict) {
    if (!verdict) return nullptr;
    json partitions = json::array();
    for (const auto& p : verdict->partitions)
        partitions.push_back({{"partition", p.partition},
                              {"status", pipeline::to_string(p.status)},
                              {"lag", optional_number(p.lag)},
                              {"holder", p.holder.empty() ? json(nullptr) : json(p.holder)},
                              {"reason", p.reason}});
    return {{"status", pipeline::to_string(verdict->status)},
            {"reason", verdict->reason},
            {"partitions", partitions},
            {"stalled", verdict->stalled_members}};
}

}  // namespace

std::optional<member_label> parse_member_label(const std::string& label) {
    auto at = label.rfind('@'), hash = label.rfind('#');
    if (at == std::string::npos || hash == std::string::npos || hash < at || hash + 1 == label.size()) return std::nullopt;
    member_label parsed{label.substr(at + 1, hash - at - 1), 0};
    auto [end, error] = std::from_chars(label.data() + hash + 1, label.data() + label.size(), parsed.pid);
    if (error != std::errc() || end != label.data() + label.size() || parsed.pid <= 0) return std::nullopt;
    return parsed;
}

std::string own_hostname() {
    char host[256] = {};
    return ::gethostname(host, sizeof host - 1) == 0 ? std::string(host) : std::string();
}

std::string cluster_json(const pipeline_state& state) {
    const auto& cluster = state.cluster();
    json brokers = json::array();
    std::set<std::int32_t> up;
    for (const auto& [id, address] : cluster.brokers) up.insert(id);
    for (const auto& [id, address] : state.brokers_ever())
        brokers.push_back({{"id", id}, {"address", address},
                           {"up", cluster.reachable && up.count(id) > 0 && !state.brokers_down().count(id)}});
    std::map<std::string, json> topics;
    for (const auto& p : cluster.partitions) {
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
    return dump({{"reachable", cluster.reachable},
                 {"checked", state.cluster_seen()},
                 {"error", cluster.error.empty() ? json(nullptr) : json(cluster.error)},
                 {"waiting", cluster.waiting.empty() ? json(nullptr) : json(cluster.waiting)},
                 {"embedded", state.embedded()},
                 {"brokers", brokers},
                 {"topics", topic_list}});
}

std::string groups_json(const pipeline_state& state, std::int64_t now_ms, const std::vector<local_process>& processes,
                        const std::string& hostname) {
    json list = json::array();
    for (const auto& entry : state.groups()) {
        // Named, not a structured binding: the lambdas below capture the group's name.
        const std::string& group = entry.first;
        const auto& stats = entry.second;
        std::map<std::int32_t, std::int64_t> lag_of;
        json partitions = json::array();
        for (const auto& p : stats.offsets.partitions) {
            const std::int64_t lag = pipeline_state::partition_lag(p);
            lag_of[p.partition] = lag;
            partitions.push_back({{"partition", p.partition},
                                  {"committed", optional_number(p.committed)},
                                  {"end", optional_number(p.end)},
                                  {"lag", optional_number(lag)}});
        }
        json members = json::array(), assignment = json::object();
        auto rows = members_of(state, stats, now_ms);
        // Our own consumers say which partitions they hold at each rebalance: fresher than
        // their records, and it shows the idle ones too.
        std::size_t copies = 0;
        std::map<std::int32_t, std::vector<std::string>> claimed;  // partition -> the labels of our copies holding it
        for (const auto& local : processes) {
            if (local.group != group || !local.notified) continue;
            ++copies;
            const auto label = group + "@" + hostname + "#" + std::to_string(local.pid);
            auto row = std::find_if(rows.begin(), rows.end(), [&](const member_row& r) { return r.label == label; });
            if (row == rows.end()) row = rows.insert(rows.end(), member_row{label, "", "", {}});
            row->partitions.assign(local.partitions.begin(), local.partitions.end());
            for (int partition : local.partitions) claimed[partition].push_back(label);
        }
        // A partition another of our copies says it holds now has moved on from its old holder.
        if (!stats.offsets.described)
            for (auto& row : rows)
                row.partitions.erase(std::remove_if(row.partitions.begin(), row.partitions.end(),
                                                    [&](std::int32_t partition) {
                                                        auto holders = claimed.find(partition);
                                                        return holders != claimed.end() &&
                                                               std::any_of(holders->second.begin(), holders->second.end(),
                                                                           [&](const std::string& l) { return l != row.label; });
                                                    }),
                                     row.partitions.end());
        // A copy of ours that is gone and holds nothing any more is no member.
        rows.erase(std::remove_if(rows.begin(), rows.end(),
                                  [&](const member_row& row) {
                                      auto label = parse_member_label(row.label);
                                      if (!row.partitions.empty() || !label || label->host != hostname) return false;
                                      return std::none_of(processes.begin(), processes.end(),
                                                          [&](const local_process& p) { return p.pid == label->pid; });
                                  }),
                   rows.end());
        for (auto& row : rows) {
            std::sort(row.partitions.begin(), row.partitions.end());
            std::int64_t lag = 0;
            for (auto partition : row.partitions) lag += std::max<std::int64_t>(0, lag_of.count(partition) ? lag_of[partition] : 0);
            json process = nullptr;
            if (auto label = parse_member_label(row.label); label && label->host == hostname)
                for (const auto& local : processes)
                    if (local.pid == label->pid) process = local.name;
            members.push_back({{"label", row.label},
                               {"member_id", row.member_id},
                               {"host", row.host.empty() ? json(nullptr) : json(row.host)},
                               {"partitions", row.partitions},
                               {"lag", lag},
                               {"process", process},
                               {"external", process.is_null()},
                               {"idle", row.partitions.empty()},
                               {"idle_reason", !row.partitions.empty() ? json(nullptr)
                                               : copies > stats.offsets.partitions.size() && !stats.offsets.partitions.empty()
                                                   ? json("the group has " + std::to_string(copies) + " members and the topic " +
                                                          std::to_string(stats.offsets.partitions.size()) + " partitions")
                                                   : json("holds no partition now")}});
            assignment[row.label] = row.partitions;
        }
        auto seconds = state.lag_seconds(stats, now_ms);
        json rebalances = json::array();
        for (const auto& r : stats.rebalances)
            rebalances.push_back({{"t_ms", r.t_ms}, {"partition", r.partition},
                                  {"from", r.from.empty() ? json(nullptr) : json(r.from)}, {"to", r.to}});
        list.push_back({{"group", group},
                        {"state", stats.offsets.described ? json(stats.offsets.state) : json(nullptr)},
                        {"partitions", partitions},
                        {"members", members},
                        {"assignment", assignment},
                        {"rebalances", rebalances},
                        {"lag", state.group_lag(stats)},
                        {"lag_seconds", seconds ? json(*seconds) : json(nullptr)},
                        {"health", health_json(state.health(group))},
                        {"processed", stats.processed},
                        {"duplicates", stats.duplicates},
                        {"replayed", stats.replayed},
                        {"skipped", stats.skipped},
                        {"lost", stats.lost},
                        {"latency_ms", {{"p50", optional_number(pipeline_state::latency_percentile(stats, 0.5))},
                                        {"p99", optional_number(pipeline_state::latency_percentile(stats, 0.99))}}}});
    }
    return dump(list);
}

std::optional<std::string> order_json(const pipeline_state& state, std::int64_t order_id) {
    const auto* t = state.find_trace(order_id);
    if (!t) return std::nullopt;
    json produced = t->produced_ms < 0 ? json(nullptr)
                                       : json{{"partition", t->partition}, {"offset", t->offset}, {"timestamp_ms", t->produced_ms}};
    json processed = json::object();
    json pending = json::array(), lost = json::array(), skipped = json::array(), dead_lettered = json::array();
    for (const auto& group : state.configured_groups()) {
        using status = pipeline_state::order_status;
        switch (state.status(*t, group)) {
        case status::pending: pending.push_back(group); break;
        case status::lost: lost.push_back(group); break;
        case status::skipped: skipped.push_back(group); break;
        case status::dead_lettered: dead_lettered.push_back(group); break;
        case status::processed: break;
        }
    }
    for (const auto& [group, p] : t->processed)
        processed[group] = {{"timestamp_ms", p.processed_ms},
                            {"latency_ms", t->produced_ms < 0 ? json(nullptr) : json(p.processed_ms - t->produced_ms)},
                            {"times", p.times},
                            {"replays", p.replays}};
    return dump({{"order_id", t->order_id},
                 {"user", t->user},
                 {"items", t->items},
                 {"total", t->total},
                 {"produced", produced},
                 {"processed", processed},
                 {"pending", pending},
                 {"skipped_by", skipped},
                 {"dead_lettered_by", dead_lettered},
                 {"lost_by", lost},
                 {"lost", !lost.empty()}});
}

std::string orders_search_json(const pipeline_state& state, const pipeline_state::order_query& query) {
    json found = json::array();
    for (const auto* t : state.search(query))
        found.push_back({{"order_id", t->order_id},
                         {"user", t->user},
                         {"items", t->items},
                         {"total", t->total},
                         {"timestamp_ms", t->produced_ms},
                         {"partition", t->partition},
                         {"offset", t->offset},
                         {"trace", "/api/orders/" + std::to_string(t->order_id)}});
    return dump({{"orders", found}, {"limit", query.limit}, {"searched", state.traces_kept()}});
}

std::string history_json(const pipeline_state& state) {
    json points = json::array();
    for (const auto& point : state.history()) {
        json p50 = json::object(), p99 = json::object();
        for (const auto& [group, value] : point.p50) p50[group] = optional_number(value);
        for (const auto& [group, value] : point.p99) p99[group] = optional_number(value);
        points.push_back({{"t_ms", point.t_ms}, {"orders", point.orders}, {"revenue", point.revenue},
                          {"lag", point.lag}, {"p50_ms", p50}, {"p99_ms", p99}});
    }
    return dump({{"interval_seconds", 1}, {"points", points}});
}

std::string dead_letters_json(const pipeline_state& state) {
    json letters = json::array();
    const auto& recent = state.dead_letters();
    for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
        const auto* redrive = state.redriven(it->source_partition, it->source_offset);
        letters.push_back({{"reason", it->reason}, {"detail", it->detail}, {"group", it->group},
                           {"partition", it->source_partition}, {"offset", it->source_offset},
                           {"dlq_partition", it->partition}, {"dlq_offset", it->offset},
                           {"redriven_before", it->redriven_before},
                           // Redriven since it was written (a redrive after this dead letter's own record).
                           {"redriven", redrive && redrive->count > it->redriven_before
                                            ? json{{"t_ms", redrive->t_ms}, {"count", redrive->count},
                                                   {"partition", redrive->partition}, {"offset", redrive->offset}}
                                            : json(nullptr)},
                           {"timestamp_ms", it->timestamp_ms}, {"value", it->value_preview}});
    }
    return dump({{"counts", state.dead_letter_counts()}, {"recent", letters}});
}

std::string live_json(const pipeline_state& state) {
    json groups = json::object();
    for (const auto& [group, stats] : state.groups())
        groups[group] = {{"lag", state.group_lag(stats)}, {"lost", stats.lost}, {"duplicates", stats.duplicates},
                         {"replayed", stats.replayed},
                         {"health", health_json(state.health(group))},
                         {"processed", stats.processed},
                         {"p99_ms", optional_number(pipeline_state::latency_percentile(stats, 0.99))}};
    const auto& history = state.history();
    const auto* last = history.empty() ? nullptr : &history.back();
    return dump({{"orders_per_second", last ? last->orders : 0},
                 {"revenue_per_second", last ? last->revenue : 0.0},
                 {"orders", state.orders_seen()},
                 {"cluster_reachable", state.cluster_reachable()},
                 {"cluster_waiting", state.cluster_waiting()},
                 {"groups", groups}});
}

}  // namespace orderstream::http
