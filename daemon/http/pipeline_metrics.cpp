// See pipeline_metrics.hpp.
#include "http/pipeline_metrics.hpp"

namespace orderstream::http {

void write_pipeline_metrics(const pipeline::pipeline_state& state, prometheus_writer& out) {
    const auto& groups = state.groups();
    auto per_group = [&](const char* name, const char* type, const char* help, auto value) {
        out.family(name, type, help);
        for (const auto& [group, stats] : groups) out.sample(name, {{"group", group}}, static_cast<double>(value(stats)));
    };
    using stats_t = pipeline::pipeline_state::group_stats;
    out.family("orderstream_kafka_reachable", "gauge", "1 while the cluster answers metadata requests.");
    out.sample("orderstream_kafka_reachable", state.cluster_reachable() ? 1 : 0);
    out.family("orderstream_kafka_waiting", "gauge",
               "1 while the cluster answers but shows fewer brokers than kafka.topic_replication wants for the topics.");
    out.sample("orderstream_kafka_waiting", state.cluster_waiting() ? 1 : 0);
    out.family("orderstream_orders_produced_total", "counter", "Orders seen in the orders topic (acknowledged by the cluster).");
    out.sample("orderstream_orders_produced_total", static_cast<double>(state.orders_seen()));
    out.family("orderstream_revenue_total", "counter", "Sum of the totals of the orders produced.");
    out.sample("orderstream_revenue_total", state.revenue_seen());
    per_group("orderstream_orders_processed_total", "counter", "Orders the group has a processing record for, plus their replays.",
              [](const stats_t& s) { return s.processed; });
    // A gauge: a replay read before the reset that explains it is first taken for a duplicate.
    per_group("orderstream_orders_duplicated", "gauge",
              "Orders the group has more processing records for than their first and the replays an operator asked for.",
              [](const stats_t& s) { return s.duplicates; });
    per_group("orderstream_orders_replayed_total", "counter",
              "Orders processed again after an offset reset or a redrive (also counted in processed).",
              [](const stats_t& s) { return s.replayed; });
    per_group("orderstream_orders_skipped", "gauge", "Orders an offset reset moved the group past without processing.",
              [](const stats_t& s) { return s.skipped; });
    per_group("orderstream_orders_lost", "gauge", "Orders the group committed past without a processing record.",
              [](const stats_t& s) { return s.lost; });
    per_group("orderstream_consumer_lag", "gauge", "Records in the orders topic not yet committed by the group.",
              [&](const stats_t& s) { return state.group_lag(s); });
    out.family("orderstream_processing_latency_ms", "gauge",
               "Processing time minus the order's CreateTime over the group's last orders, by quantile.");
    for (const auto& [group, stats] : groups) {
        if (stats.latencies.empty()) continue;
        using state = pipeline::pipeline_state;
        out.sample("orderstream_processing_latency_ms", {{"group", group}, {"quantile", "0.5"}},
                   static_cast<double>(state::latency_percentile(stats, 0.5)));
        out.sample("orderstream_processing_latency_ms", {{"group", group}, {"quantile", "0.99"}},
                   static_cast<double>(state::latency_percentile(stats, 0.99)));
    }
    out.family("orderstream_dead_letters_total", "counter", "Records forwarded to orders.dlq, by reason.");
    for (const auto& [reason, count] : state.dead_letter_counts())
        out.sample("orderstream_dead_letters_total", {{"reason", reason}}, static_cast<double>(count));
}

}  // namespace orderstream::http
