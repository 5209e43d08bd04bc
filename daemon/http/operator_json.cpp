// The operator's actions in JSON; see operator_json.hpp.
#include "http/operator_json.hpp"

#include <charconv>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace orderstream::http {
namespace {

using json = nlohmann::json;
using pipeline::action_outcome;

constexpr std::size_t max_redrive_items = 500;  // dead letters in one request

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::optional<json> object_body(std::string_view body, std::string& error) {
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        error = "the body must be a JSON object";
        return std::nullopt;
    }
    return parsed;
}

bool whole_number(const json& value, std::int64_t low, std::int64_t& out) {
    if (!value.is_number_integer()) return false;
    out = value.get<std::int64_t>();
    return out >= low;
}

const char* target_name(pipeline::reset_request::target to) {
    using target = pipeline::reset_request::target;
    switch (to) {
    case target::earliest: return "earliest";
    case target::latest: return "latest";
    case target::timestamp: return "timestamp";
    case target::offsets: return "offsets";
    }
    return "?";
}

}  // namespace

std::variant<pipeline::reset_request, std::string> parse_reset_request(std::string_view body) {
    std::string error;
    auto parsed = object_body(body, error);
    if (!parsed) return error + R"(, e.g. {"to":"earliest"})";
    const json& j = *parsed;
    for (const auto& [key, value] : j.items())
        if (key != "to" && key != "timestamp_ms" && key != "offsets" && key != "dry_run")
            return "unknown field \"" + key + "\"; the fields are to, timestamp_ms, offsets and dry_run";
    pipeline::reset_request request;
    using target = pipeline::reset_request::target;
    const std::string to = j.contains("to") && j["to"].is_string() ? j["to"].get<std::string>() : "";
    if (to == "earliest") request.to = target::earliest;
    else if (to == "latest") request.to = target::latest;
    else if (to == "timestamp") request.to = target::timestamp;
    else if (to == "offsets") request.to = target::offsets;
    else return R"("to" must be "earliest", "latest", "timestamp" or "offsets")";
    if (request.to == target::timestamp &&
        (!j.contains("timestamp_ms") || !whole_number(j["timestamp_ms"], 0, request.timestamp_ms)))
        return R"("to":"timestamp" needs "timestamp_ms", milliseconds since 1970, e.g. 1764201600000)";
    if (request.to == target::offsets) {
        if (!j.contains("offsets") || !j["offsets"].is_object() || j["offsets"].empty())
            return R"("to":"offsets" needs "offsets", an object of partition to offset, e.g. {"0":123,"2":40})";
        for (const auto& [key, value] : j["offsets"].items()) {
            std::int32_t partition = -1;
            auto [end, failure] = std::from_chars(key.data(), key.data() + key.size(), partition);
            std::int64_t offset = -1;
            if (failure != std::errc() || end != key.data() + key.size() || partition < 0)
                return "\"" + key + "\" is not a partition number";
            if (!whole_number(value, 0, offset)) return "the offset of partition " + key + " must be a whole number ≥ 0";
            request.offsets[partition] = offset;
        }
    }
    if (j.contains("dry_run")) {
        if (!j["dry_run"].is_boolean()) return R"("dry_run" must be true or false)";
        request.dry_run = j["dry_run"].get<bool>();
    }
    return request;
}

std::variant<pipeline::redrive_request, std::string> parse_redrive_request(std::string_view body) {
    std::string error;
    auto parsed = object_body(body, error);
    const std::string example = R"(, e.g. {"dead_letters":[{"partition":0,"offset":17}]} or {"reason":"too_large"})";
    if (!parsed) return error + example;
    const json& j = *parsed;
    for (const auto& [key, value] : j.items())
        if (key != "dead_letters" && key != "reason" && key != "again")
            return "unknown field \"" + key + "\"; the fields are dead_letters, reason and again";
    pipeline::redrive_request request;
    const bool listed = j.contains("dead_letters"), by_reason = j.contains("reason");
    if (listed == by_reason) return "name either \"dead_letters\" or \"reason\"" + example;
    if (by_reason) {
        if (!j["reason"].is_string() || j["reason"].get<std::string>().empty()) return R"("reason" must be a reason, e.g. "too_large")";
        request.reason = j["reason"].get<std::string>().substr(0, 256);
    } else {
        const auto& list = j["dead_letters"];
        if (!list.is_array() || list.empty()) return "\"dead_letters\" must be a list of {partition, offset}" + example;
        if (list.size() > max_redrive_items)
            return "at most " + std::to_string(max_redrive_items) + " dead letters per request";
        for (const auto& item : list) {
            std::int64_t partition = -1, offset = -1;
            if (!item.is_object() || !item.contains("partition") || !item.contains("offset") ||
                !whole_number(item["partition"], 0, partition) || !whole_number(item["offset"], 0, offset) ||
                partition > std::numeric_limits<std::int32_t>::max())
                return "each dead letter is {\"partition\":P,\"offset\":O}, its place in the dead-letter topic";
            request.dead_letters.push_back({static_cast<std::int32_t>(partition), offset});
        }
    }
    if (j.contains("again")) {
        if (!j["again"].is_boolean()) return R"("again" must be true or false)";
        request.again = j["again"].get<bool>();
    }
    return request;
}

boost::beast::http::status status_of(action_outcome outcome) {
    using boost::beast::http::status;
    switch (outcome) {
    case action_outcome::done:
    case action_outcome::planned: return status::ok;
    case action_outcome::invalid: return status::unprocessable_entity;
    case action_outcome::not_found: return status::not_found;
    case action_outcome::conflict: return status::conflict;
    case action_outcome::failed: return status::bad_gateway;
    }
    return status::internal_server_error;
}

std::string reset_result_json(const std::string& group, const pipeline::reset_request& request,
                              const pipeline::reset_result& result) {
    const bool ok = result.outcome == action_outcome::done || result.outcome == action_outcome::planned;
    json body = {{"group", group}, {"to", target_name(request.to)}, {"dry_run", request.dry_run}};
    if (!result.message.empty()) body[ok ? "warning" : "error"] = result.message;
    if (!result.members.empty()) body["members"] = result.members;
    if (ok) {
        json partitions = json::array();
        for (const auto& m : result.moves)
            partitions.push_back({{"partition", m.partition},
                                  {"from", m.from < 0 ? json(nullptr) : json(m.from)},
                                  {"to", m.to},
                                  {"earliest", m.low},
                                  {"latest", m.high}});
        body["partitions"] = partitions;
        body["replayed"] = result.replayed();
        body["skipped"] = result.skipped();
    }
    body["copies"] = result.copies;
    return dump(body);
}

std::string redrive_result_json(const pipeline::redrive_result& result) {
    json items = json::array();
    for (const auto& item : result.items) {
        json entry = {{"dlq_partition", item.dead_letter.partition},
                      {"dlq_offset", item.dead_letter.offset},
                      {"outcome", item.outcome}};
        if (!item.message.empty()) entry["message"] = item.message;
        if (item.source_partition >= 0) entry["original"] = {{"partition", item.source_partition}, {"offset", item.source_offset}};
        if (item.outcome == "redriven")
            entry["redriven"] = {{"partition", item.partition}, {"offset", item.offset}, {"count", item.count}};
        items.push_back(std::move(entry));
    }
    json body = {{"topic", result.topic}, {"summary", result.message}, {"items", items}};
    if (result.outcome != action_outcome::done) body["error"] = result.message;
    return dump(body);
}

}  // namespace orderstream::http
