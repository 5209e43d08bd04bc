// libFuzzer target: any bytes on orders.acks, decoded and applied to the dashboard's model and
// rendered, must neither crash nor overflow (UBSan), and every entry kept must be in range.
#include <cstdlib>
#include <string_view>

#include "http/pipeline_json.hpp"
#include "kafka/processing_record.hpp"
#include "pipeline/pipeline_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view value(reinterpret_cast<const char*>(data), size);
    std::vector<orderstream::pipeline::processing_seen> records;
    std::vector<orderstream::pipeline::offsets_reset_seen> resets;
    orderstream::kafka::decode_processing_record(value, "orders", 1'700'000'000'000, records, &resets);
    for (const auto& reset : resets)
        if (reset.group.empty() || reset.moves.size() > orderstream::kafka::max_reset_partitions) std::abort();
    for (const auto& r : records)
        if (r.processed_ms < 0 || r.group.empty() || r.group.size() > orderstream::kafka::max_label_bytes) std::abort();

    static orderstream::pipeline::pipeline_state state({"shipping-group", "email-group", "analytics-group"}, true);
    orderstream::pipeline::observation report;
    orderstream::pipeline::order_seen order;
    order.order_id = 1001;
    order.timestamp_ms = 1'700'000'000'000;
    order.total = 1.0;
    report.orders.push_back(order);
    report.processing = std::move(records);
    report.resets = std::move(resets);
    state.apply(std::move(report));
    state.tick(1'700'000'001'000);
    (void)orderstream::http::groups_json(state, 1'700'000'001'000, {}, "host");
    return 0;
}
