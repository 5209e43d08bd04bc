// See processing_record.hpp.
#include "kafka/processing_record.hpp"

#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {
namespace {

using json = nlohmann::json;

// Wall-clock milliseconds up to the year 33658: any difference of two fits in 64 bits.
constexpr std::int64_t max_ms = 1'000'000'000'000'000;
constexpr std::int64_t max_partition = 1'000'000;

std::optional<std::int64_t> whole(const json& value, std::int64_t low, std::int64_t high) {
    if (value.is_number_unsigned()) {
        auto v = value.get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(high)) return std::nullopt;
        return static_cast<std::int64_t>(v) >= low ? std::optional<std::int64_t>(static_cast<std::int64_t>(v)) : std::nullopt;
    }
    if (!value.is_number_integer()) return std::nullopt;
    auto v = value.get<std::int64_t>();
    if (v < low || v > high) return std::nullopt;
    return v;
}

std::optional<std::string> label(const json& value) {
    if (!value.is_string() || value.get_ref<const std::string&>().size() > max_label_bytes) return std::nullopt;
    return value.get<std::string>();
}

json field(const json& object, const char* name) {
    auto found = object.find(name);
    return found == object.end() ? json() : *found;
}

// One entry; the batch's group and client stand in for missing ones.
std::optional<pipeline::processing_seen> entry(const json& item, const std::string& batch_group,
                                               const std::string& batch_client, std::int64_t record_ms) {
    if (!item.is_object()) return std::nullopt;
    auto order_id = whole(field(item, "order_id"), std::numeric_limits<std::int64_t>::min(),
                          std::numeric_limits<std::int64_t>::max());
    auto group = field(item, "group").is_null() ? std::optional<std::string>(batch_group) : label(field(item, "group"));
    if (!order_id || !group || group->empty()) return std::nullopt;
    pipeline::processing_seen seen;
    seen.order_id = *order_id;
    seen.group = *group;
    auto processed = field(item, "processed_ms");
    if (processed.is_null()) {
        seen.processed_ms = record_ms;
    } else if (auto ms = whole(processed, 0, max_ms)) {
        seen.processed_ms = *ms;
    } else {
        return std::nullopt;
    }
    seen.member = label(field(item, "member")).value_or("");
    seen.client = batch_client;
    if (auto partition = whole(field(item, "partition"), 0, max_partition)) seen.partition = static_cast<std::int32_t>(*partition);
    if (auto offset = whole(field(item, "offset"), 0, std::numeric_limits<std::int64_t>::max())) seen.offset = *offset;
    return seen;
}

}  // namespace

std::string encode_reset_marker(const pipeline::offsets_reset_seen& reset, std::string_view topic) {
    json moves = json::array();
    for (const auto& m : reset.moves) moves.push_back({{"partition", m.partition}, {"from", m.from}, {"to", m.to}});
    return json{{"group", reset.group}, {"topic", topic}, {"reset_id", reset.id}, {"reset", moves}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
}

std::size_t decode_processing_record(std::string_view value, std::string_view watched_topic, std::int64_t record_ms,
                                     std::vector<pipeline::processing_seen>& out,
                                     std::vector<pipeline::offsets_reset_seen>* resets) {
    auto record = json::parse(value.begin(), value.end(), nullptr, false);
    if (!record.is_object()) return 0;
    if (record_ms < 0 || record_ms > max_ms) record_ms = 0;
    if (auto moves = field(record, "reset"); moves.is_array()) {
        auto topic = label(field(record, "topic"));
        auto group = label(field(record, "group"));
        auto id = label(field(record, "reset_id"));
        if (!resets || !topic || *topic != watched_topic || !group || group->empty() || !id ||
            moves.size() > max_reset_partitions)
            return 0;
        pipeline::offsets_reset_seen reset{*group, *id, {}};
        for (const auto& move : moves) {
            if (!move.is_object()) return 0;
            auto partition = whole(field(move, "partition"), 0, max_partition);
            auto from = whole(field(move, "from"), -1, std::numeric_limits<std::int64_t>::max());
            auto to = whole(field(move, "to"), -1, std::numeric_limits<std::int64_t>::max());
            if (!partition || !from || !to) return 0;
            reset.moves.push_back({static_cast<std::int32_t>(*partition), *from, *to});
        }
        resets->push_back(std::move(reset));
        return 0;
    }
    auto acks = field(record, "acks");
    if (!acks.is_array()) {
        if (watched_topic != orders_topic) return 0;
        auto one = entry(record, "", "", record_ms);
        if (!one) return 0;
        out.push_back(std::move(*one));
        return 1;
    }
    auto topic = label(field(record, "topic"));
    if (!topic || *topic != watched_topic) return 0;
    auto group = label(field(record, "group")).value_or("");
    auto client = label(field(record, "client")).value_or("");
    std::size_t added = 0;
    for (const auto& item : acks) {
        if (added >= max_entries_per_record) break;
        if (auto one = entry(item, group, client, record_ms)) {
            out.push_back(std::move(*one));
            ++added;
        }
    }
    return added;
}

}  // namespace orderstream::kafka
