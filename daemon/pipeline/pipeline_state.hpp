// What the dashboard knows about the pipeline, built from the observer's reports on the event
// loop: per-order traces, per-group accounting, the cluster's layout, dead letters, and a
// per-second history for the charts. Bounded throughout. Its JSON and Prometheus views live in
// http/ (pipeline_json, pipeline_metrics).
//
// The accounting, per order and group:
//   processed  the group has a processing record for the order;
//   pending    no record yet, and the group's committed offset is not past the order;
//   lost       the group committed past the order and there is no record (however long ago);
//   processed more than once  more than one record (at-least-once allows it after a crash),
//              except the ones an operator asked for:
//   replayed   processed again because the group's offsets were reset back over it, or because
//              its dead letter was redriven after the group had processed it (counted in
//              processed as well, never as a duplicate);
//   skipped    committed past without a record because an operator reset the offsets forward;
//   dead-lettered  committed past after the group wrote the order to the dead-letter topic;
//   latency    the record's processing time minus the order record's CreateTime.
// No figure depends on a timer. Consumers write records before they commit, and the observer
// reports a commit only once it has read every record written before it, so "lost" is exact.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipeline/group_health.hpp"
#include "pipeline/pipeline_events.hpp"

namespace orderstream::pipeline {

struct state_limits {
    std::size_t max_traces = 50000;        // orders followed, oldest forgotten first
    std::size_t history_seconds = 600;     // chart points
    std::size_t max_dead_letters = 200;    // kept for the dead-letter panel
    std::size_t latency_window = 2000;     // samples per group for the overall percentiles
    std::size_t max_rebalances = 50;       // timeline entries per group
    std::int64_t member_idle_ms = 60000;   // a member not heard of this long leaves the assignment
    // Records and dead letters come from topics anyone can write to: groups and reasons beyond
    // these counts are not tracked (their records ignored, their reasons counted as "other").
    std::size_t max_groups = 16;
    std::size_t max_partitions = 1024;  // per group, for who holds which partition
    std::size_t max_reasons = 32;
    std::size_t max_windows = 64;  // per group, of resets and redrives remembered
    std::int64_t health_window_ms = 30000;  // the window a group's health is judged over
};

// -1 for an empty list.
std::int64_t percentile(std::vector<std::int64_t> values, double fraction);

class pipeline_state {
public:
    enum class order_status { processed, pending, lost, skipped, dead_lettered };

    struct processing {
        std::int64_t processed_ms = 0;  // the first record's
        int times = 0;
        int replays = 0;              // of the times, those an operator asked for
        std::uint64_t last_window = 0;  // the newest replay window that counted one
    };
    struct trace {
        std::int64_t order_id = 0;
        std::int32_t partition = -1;
        std::int64_t offset = -1;
        std::int64_t produced_ms = -1;  // -1 until the order itself was seen
        double total = 0;
        std::string user, items;
        std::map<std::string, processing> processed;  // by group
    };
    struct owner {
        std::string member;  // the label: the client id (GROUP@HOST#PID), else the member id
        std::string member_id;
        std::int64_t last_ms = 0;
    };
    struct rebalance {
        std::int64_t t_ms = 0;
        std::int32_t partition = 0;
        std::string from, to;
    };
    // Offsets [from, to) of one partition that an operator's action concerns.
    struct offset_window {
        std::uint64_t seq = 0;
        std::int32_t partition = 0;
        std::int64_t from = 0, to = 0;
        bool covers(std::int32_t p, std::int64_t offset) const { return p == partition && offset >= from && offset < to; }
    };
    struct group_stats {
        std::uint64_t processed = 0;   // orders with a record, plus replays
        std::uint64_t duplicates = 0;  // orders with more records than first processing and replays
        std::uint64_t replayed = 0;
        std::uint64_t skipped = 0;     // recounted each tick
        // The newest max_windows each: resets back and forward, and redriven records (apart, so
        // that many redrives cannot push a reset's replays out).
        std::deque<offset_window> replay_windows, skip_windows, redrive_windows;
        std::deque<std::string> resets;  // ids of the resets applied, the newest max_windows
        // Orders the group dead-lettered (partition, offset), the newest max_traces.
        std::set<std::pair<std::int32_t, std::int64_t>> dead_lettered;
        std::deque<std::pair<std::int32_t, std::int64_t>> dead_lettered_order;
        std::uint64_t lost = 0;        // recounted each tick, plus lost orders already forgotten
        std::uint64_t lost_forgotten = 0;
        // Who processed each partition last, from the records; a change of member is a
        // rebalance on the timeline.
        std::map<std::int32_t, owner> owners;
        std::deque<rebalance> rebalances;
        std::deque<std::int64_t> latencies;  // ms, newest last
        std::vector<std::int64_t> second_latencies;
        group_snapshot offsets;
        bool offsets_fresh = false;     // a snapshot came since the last tick
        std::int64_t offsets_ms = -1;   // the tick that last saw a fresh snapshot
    };
    struct history_point {
        std::int64_t t_ms = 0;
        std::uint64_t orders = 0;
        double revenue = 0;
        std::map<std::string, std::int64_t> lag;
        std::map<std::string, std::int64_t> p50, p99;
    };

    pipeline_state(std::vector<std::string> groups, bool embedded, state_limits limits = {});

    void apply(observation&& report);

    // An operator moved the group's committed offsets (from: before, to: after, per partition).
    // Orders moved back over are counted as replayed when processed again (also when their
    // records were read before this: a restarted daemon reads the marker among them), orders
    // moved forward over as skipped rather than lost. The same `id` again changes nothing.
    // `correct_earlier`: replays already read (a marker read back after them) are set right;
    // not for a reset applied as it happens, when none can have come yet.
    void offsets_reset(const offsets_reset_seen& reset, bool correct_earlier = true);
    // Where a dead letter's original record went when it was redriven (seen on the record).
    struct redrive {
        std::int64_t t_ms = 0;
        int count = 0;
        std::int32_t partition = -1;
        std::int64_t offset = -1;
    };
    // By the original record's partition and offset in the watched topic.
    const redrive* redriven(std::int32_t partition, std::int64_t offset) const;
    void set_redriven(std::int32_t partition, std::int64_t offset, redrive done);
    const std::map<std::pair<std::int32_t, std::int64_t>, redrive>& redrives() const { return redrives_; }
    // The orders seen that match `query`, newest first, at most query.limit.
    struct order_query {
        std::string user, item;  // exact user; item: a part of an item's name, any case
        std::optional<double> min_total, max_total;
        std::optional<std::int64_t> from_ms, to_ms;  // the record's timestamp, from inclusive, to exclusive
        std::size_t limit = 50;
    };
    std::vector<const trace*> search(const order_query& query) const;
    std::size_t traces_kept() const { return traces_.size(); }
    // Once a second: closes the current history point and recounts lost orders.
    void tick(std::int64_t now_ms);

    // The consumers of each group that the daemon runs (from its supervisor), for the groups'
    // health at the next tick.
    void set_local_members(std::map<std::string, std::vector<local_member>> members) {
        local_members_ = std::move(members);
    }
    // The group's health as of the last tick (nullptr before the first, or for a group not run).
    const group_verdict* health(const std::string& group) const;

    // The groups the daemon runs (their commits are read, so their losses counted).
    const std::vector<std::string>& configured_groups() const { return groups_; }
    const std::map<std::string, group_stats>& groups() const { return stats_; }
    const trace* find_trace(std::int64_t order_id) const;
    order_status status(const trace& t, const std::string& group) const;
    std::int64_t group_lag(const group_stats& stats) const;
    // Records of one partition not committed yet; -1 while its end offset is unknown.
    static std::int64_t partition_lag(const group_partition& p);
    // Over the group's last latency_window orders; -1 before the first.
    static std::int64_t latency_percentile(const group_stats& stats, double fraction);
    // How long the oldest unprocessed order has waited, where we saw that order.
    std::optional<std::int64_t> lag_seconds(const group_stats& stats, std::int64_t now_ms) const;
    const state_limits& limits() const { return limits_; }

    bool embedded() const { return embedded_; }
    const cluster_snapshot& cluster() const { return cluster_; }
    const std::map<std::int32_t, std::string>& brokers_ever() const { return brokers_ever_; }
    const std::set<std::int32_t>& brokers_down() const { return brokers_down_; }
    bool cluster_reachable() const { return cluster_.reachable; }
    // It answers, but the pipeline waits for it (cluster().waiting says why).
    bool cluster_waiting() const { return !cluster_.waiting.empty(); }
    bool cluster_seen() const { return cluster_seen_; }
    const std::vector<partition_info>& partitions() const { return cluster_.partitions; }
    // Brokers known to be down although metadata may still list them (the embedded cluster's
    // mock brokers stay in its metadata when taken down).
    void set_brokers_down(std::set<std::int32_t> down) { brokers_down_ = std::move(down); }

    const std::deque<dead_letter_seen>& dead_letters() const { return dead_letters_; }
    const std::map<std::string, std::uint64_t>& dead_letter_counts() const { return dead_letter_counts_; }
    const std::deque<history_point>& history() const { return history_; }
    std::uint64_t orders_seen() const { return orders_seen_; }
    double revenue_seen() const { return revenue_seen_; }
    double orders_per_second() const;
    std::int64_t total_lag() const;

private:
    trace& trace_for(std::int64_t order_id);
    void forget_oldest_trace();
    void record_latency(const std::string& group, std::int64_t ms);
    void apply_processing(const processing_seen& record);
    void allow_redrive(trace& t, const order_seen& order);
    void judge_groups(std::int64_t now_ms);
    void add_window(std::deque<offset_window>& windows, std::int32_t partition, std::int64_t from, std::int64_t to);

    std::vector<std::string> groups_;
    bool embedded_;
    state_limits limits_;
    std::unordered_map<std::int64_t, trace> traces_;
    std::deque<std::int64_t> trace_order_;
    // Per partition: offset -> record timestamp of recent orders, for lag in seconds.
    std::map<std::int32_t, std::map<std::int64_t, std::int64_t>> offsets_;
    std::map<std::string, group_stats> stats_;
    cluster_snapshot cluster_;
    bool cluster_seen_ = false;
    std::map<std::int32_t, std::string> brokers_ever_;
    std::set<std::int32_t> brokers_down_;  // to show brokers that went down
    std::deque<dead_letter_seen> dead_letters_;
    std::map<std::string, std::uint64_t> dead_letter_counts_;
    std::map<std::pair<std::int32_t, std::int64_t>, redrive> redrives_;  // the newest max_dead_letters
    std::deque<std::pair<std::int32_t, std::int64_t>> redrives_order_;
    std::uint64_t next_window_ = 1;
    // Setting earlier replays right walks every trace: a few times a second at most, however
    // many markers anyone writes.
    int corrections_left_ = max_corrections_per_tick;
    static constexpr int max_corrections_per_tick = 4;
    std::uint64_t orders_seen_ = 0;
    double revenue_seen_ = 0;
    history_point current_;
    std::deque<history_point> history_;
    std::int64_t first_tick_ms_ = -1;
    std::map<std::string, std::vector<local_member>> local_members_;
    std::map<std::string, group_health> health_;
    std::map<std::string, group_verdict> verdicts_;
};

}  // namespace orderstream::pipeline
