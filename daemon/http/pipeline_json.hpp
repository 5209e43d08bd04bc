// The JSON views of the pipeline model served under /api (cluster, groups, orders, history,
// dead letters) and the live figures pushed on the stream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/pipeline_state.hpp"

namespace orderstream::http {

// A process this daemon runs, to join group members with the processes that are them.
struct local_process {
    std::string name;
    int pid = 0;
    std::string group;         // for a consumer: its group
    bool notified = false;     // the child said which partitions it holds
    std::vector<int> partitions;
};

std::string cluster_json(const pipeline::pipeline_state& state);
// Per group: lag, the accounting (processed, duplicates, lost), latency, partitions, members
// (label, member id, partitions, lag, and the local process or "external"), rebalances.
std::string groups_json(const pipeline::pipeline_state& state, std::int64_t now_ms,
                        const std::vector<local_process>& processes, const std::string& hostname);
std::optional<std::string> order_json(const pipeline::pipeline_state& state, std::int64_t order_id);
// GET /api/orders?…: the orders matching, newest first, each with a link to its trace.
std::string orders_search_json(const pipeline::pipeline_state& state, const pipeline::pipeline_state::order_query& query);
std::string history_json(const pipeline::pipeline_state& state);
std::string dead_letters_json(const pipeline::pipeline_state& state);
// The small live figures pushed on the stream: last second's rates, lag, lost, p99.
std::string live_json(const pipeline::pipeline_state& state);

// "GROUP@HOST#PID" split into host and pid; nullopt for any other label.
struct member_label {
    std::string host;
    int pid = 0;
};
std::optional<member_label> parse_member_label(const std::string& label);
// This host's name, as the daemon's consumers put it in their labels.
std::string own_hostname();

}  // namespace orderstream::http
