// The dashboard's model of the pipeline, fed the same reports the Kafka observer sends, and read
// back through the JSON the HTTP API serves (http/pipeline_json).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http/pipeline_json.hpp"
#include "pipeline/pipeline_state.hpp"

using namespace orderstream::pipeline;
using orderstream::http::dead_letters_json;
using orderstream::http::history_json;
using orderstream::http::live_json;
using nlohmann::json;

namespace {

const std::vector<std::string> groups{"analytics-group", "email-group", "shipping-group"};

// An order record: id, partition, offset, timestamp, total.
struct order_at {
    std::int64_t order_id;
    std::int32_t partition;
    std::int64_t offset, timestamp_ms;
    double total;
};

observation orders(std::initializer_list<order_at> seen) {
    observation report;
    for (const auto& o : seen) {
        order_seen order;
        order.order_id = o.order_id;
        order.partition = o.partition;
        order.offset = o.offset;
        order.timestamp_ms = o.timestamp_ms;
        order.total = o.total;
        report.orders.push_back(std::move(order));
    }
    return report;
}

processing_seen ack(std::int64_t order_id, std::string group, std::int64_t processed_ms, std::string member = "",
                    std::int32_t partition = -1) {
    return {order_id, std::move(group), processed_ms, std::move(member), "", partition, -1};
}

observation acks(std::initializer_list<processing_seen> seen) {
    observation report;
    report.processing = seen;
    return report;
}

// A group's committed offsets, as the observer reports them.
observation commits(const std::string& group, std::vector<group_partition> partitions) {
    observation report;
    report.groups = std::vector<group_snapshot>{{group, std::move(partitions), false, {}, {}}};
    return report;
}

std::optional<std::string> order_json(const pipeline_state& state, std::int64_t id) {
    return orderstream::http::order_json(state, id);
}

json groups_json(const pipeline_state& state, std::int64_t now_ms) {
    return json::parse(orderstream::http::groups_json(state, now_ms, {}, "this-host"));
}

json group_named(const pipeline_state& state, const std::string& name, std::int64_t now_ms) {
    for (const auto& group : groups_json(state, now_ms))
        if (group["group"] == name) return group;
    FAIL("no group " << name);
    return {};
}

}  // namespace

TEST_CASE("an order's trace shows who processed it, how fast, and who has not") {
    pipeline_state state(groups, true);
    state.apply(orders({{1001, 2, 40, 10'000, 59.98}}));
    state.apply(acks({ack(1001, "shipping-group", 10'250), ack(1001, "email-group", 10'900)}));

    auto trace = json::parse(*order_json(state, 1001));
    CHECK(trace["produced"]["partition"] == 2);
    CHECK(trace["produced"]["offset"] == 40);
    CHECK(trace["processed"]["shipping-group"]["latency_ms"] == 250);
    CHECK(trace["processed"]["email-group"]["latency_ms"] == 900);
    CHECK(trace["pending"] == json{"analytics-group"});
    CHECK(trace["lost"] == false);
    CHECK_FALSE(order_json(state, 999));

    // Analytics commits past it without a record: lost for analytics only.
    state.apply(commits("analytics-group", {{2, 41, 41}}));
    state.tick(12'000);
    trace = json::parse(*order_json(state, 1001));
    CHECK(trace["lost"] == true);
    CHECK(trace["lost_by"] == json{"analytics-group"});
    CHECK(trace["pending"].empty());
    CHECK(group_named(state, "analytics-group", 12'000)["lost"] == 1);
    CHECK(group_named(state, "shipping-group", 12'000)["lost"] == 0);
}

TEST_CASE("an acknowledgement that arrives before its order still gets a latency") {
    pipeline_state state(groups, true);
    state.apply(acks({ack(7, "email-group", 5'300)}));
    state.apply(orders({{7, 0, 0, 5'000, 10.0}}));
    auto trace = json::parse(*order_json(state, 7));
    CHECK(trace["processed"]["email-group"]["latency_ms"] == 300);
    CHECK(group_named(state, "email-group", 5'400)["latency_ms"]["p50"] == 300);
}

TEST_CASE("a second acknowledgement of the same order is a duplicate, not a second order") {
    pipeline_state state(groups, true);
    state.apply(orders({{1001, 0, 0, 1'000, 10.0}}));
    state.apply(acks({ack(1001, "shipping-group", 1'100), ack(1001, "shipping-group", 9'000)}));
    auto shipping = group_named(state, "shipping-group", 9'000);
    CHECK(shipping["processed"] == 1);
    CHECK(shipping["duplicates"] == 1);
    CHECK(json::parse(*order_json(state, 1001))["processed"]["shipping-group"]["times"] == 2);
}

TEST_CASE("lag counts uncommitted records and how long the oldest has waited") {
    pipeline_state state(groups, true);
    state.apply(orders({{1, 0, 0, 1'000, 1}, {2, 0, 1, 2'000, 1}, {3, 0, 2, 3'000, 1}}));
    observation report;
    report.groups = std::vector<group_snapshot>{{"email-group", {{0, 1, 3}}, false, {}, {}},
                                                {"shipping-group", {{0, -1, 3}}, false, {}, {}}};
    state.apply(std::move(report));

    auto email = group_named(state, "email-group", 12'500);
    CHECK(email["lag"] == 2);
    CHECK(email["lag_seconds"] == 10);  // offset 1, produced at 2 s, still waiting at 12.5 s
    CHECK(email["partitions"][0]["committed"] == 1);
    auto shipping = group_named(state, "shipping-group", 12'500);
    CHECK(shipping["lag"] == 3);
    CHECK(shipping["partitions"][0]["committed"].is_null());
    CHECK(group_named(state, "analytics-group", 12'500)["lag_seconds"].is_null());
}

TEST_CASE("a partition changing hands shows on the group's rebalance timeline") {
    state_limits limits;
    limits.member_idle_ms = 10'000;
    pipeline_state state(groups, true, limits);
    state.apply(acks({ack(1, "shipping-group", 1'000, "member-a", 0), ack(2, "shipping-group", 1'000, "member-a", 1),
                      ack(3, "shipping-group", 1'500, "member-a", 0)}));
    auto shipping = group_named(state, "shipping-group", 1'500);
    CHECK(shipping["assignment"] == json{{"member-a", {0, 1}}});
    REQUIRE(shipping["rebalances"].size() == 2);  // first assignments, not moves
    CHECK(shipping["rebalances"][0]["from"].is_null());

    state.apply(acks({ack(4, "shipping-group", 2'000, "member-b", 1)}));
    shipping = group_named(state, "shipping-group", 2'000);
    CHECK(shipping["assignment"] == json{{"member-a", {0}}, {"member-b", {1}}});
    REQUIRE(shipping["rebalances"].size() == 3);
    CHECK(shipping["rebalances"][2] == json{{"t_ms", 2'000}, {"partition", 1}, {"from", "member-a"}, {"to", "member-b"}});

    // A late ack from the old member (acks arrive out of order) is not a change back.
    state.apply(acks({ack(5, "shipping-group", 1'800, "member-a", 1)}));
    CHECK(group_named(state, "shipping-group", 2'100)["rebalances"].size() == 3);
    CHECK(group_named(state, "shipping-group", 2'100)["assignment"]["member-b"] == json{1});

    // A member not heard of for the idle period leaves the assignment; the timeline stays.
    shipping = group_named(state, "shipping-group", 11'800);
    CHECK(shipping["assignment"] == json{{"member-b", {1}}});
    CHECK(shipping["rebalances"].size() == 3);
    // Acknowledgements from consumers that do not say who they are change nothing.
    state.apply(acks({ack(6, "shipping-group", 3'000)}));
    CHECK(group_named(state, "shipping-group", 3'000)["rebalances"].size() == 3);
}

TEST_CASE("traces, dead letters and the rebalance timeline stay within their limits") {
    state_limits limits;
    limits.max_traces = 3;
    limits.max_dead_letters = 2;
    limits.max_rebalances = 4;
    pipeline_state state(groups, true, limits);
    for (std::int64_t id = 1; id <= 5; ++id) state.apply(orders({{id, 0, id, 1'000, 1}}));
    CHECK_FALSE(order_json(state, 1));
    CHECK_FALSE(order_json(state, 2));
    CHECK(order_json(state, 5));

    observation letters;
    for (int i = 0; i < 5; ++i) letters.dead_letters.push_back({i < 4 ? "invalid-json" : "invalid-order", "", "email-group", 0, i, 1'000, ""});
    state.apply(std::move(letters));
    auto dead = json::parse(dead_letters_json(state));
    CHECK(dead["counts"] == json{{"invalid-json", 4}, {"invalid-order", 1}});
    REQUIRE(dead["recent"].size() == 2);
    CHECK(dead["recent"][0]["offset"] == 4);  // newest first

    for (int i = 0; i < 10; ++i)
        state.apply(acks({ack(5, "email-group", 1'000 + i, i % 2 ? "member-a" : "member-b", 0)}));
    auto timeline = group_named(state, "email-group", 1'010)["rebalances"];
    REQUIRE(timeline.size() == 4);
    CHECK(timeline[3]["t_ms"] == 1'009);
}

TEST_CASE("acks of unknown groups and unknown dead-letter reasons cannot grow the state without end") {
    state_limits limits;
    limits.max_groups = 5;
    limits.max_reasons = 4;
    pipeline_state state(groups, true, limits);
    for (int i = 0; i < 20; ++i) state.apply(acks({ack(1, "forged-" + std::to_string(i), 1'000)}));
    auto listed = groups_json(state, 1'000);
    REQUIRE(listed.size() == 5);  // the three configured, then the first two others
    CHECK(group_named(state, "forged-1", 1'000)["processed"] == 1);
    // The configured groups are always counted.
    state.apply(acks({ack(1, "email-group", 1'000)}));
    CHECK(group_named(state, "email-group", 1'000)["processed"] == 1);

    observation letters;
    for (int i = 0; i < 10; ++i) letters.dead_letters.push_back({"reason-" + std::to_string(i), "", "email-group", 0, i, 1'000, ""});
    state.apply(std::move(letters));
    auto counts = json::parse(dead_letters_json(state))["counts"];
    // Forged partition numbers cannot grow who-holds-what without end either.
    observation many;
    for (int p = 0; p < 3000; ++p) many.processing.push_back(ack(p + 10, "email-group", 1'000, "m", p));
    state.apply(std::move(many));
    CHECK(state.groups().at("email-group").owners.size() == limits.max_partitions);
    CHECK(counts == json{{"reason-0", 1}, {"reason-1", 1}, {"reason-2", 1}, {"reason-3", 1}, {"other", 6}});
}

TEST_CASE("the history has one point per tick, capped, with orders and revenue of that second") {
    state_limits limits;
    limits.history_seconds = 3;
    pipeline_state state(groups, true, limits);
    for (std::int64_t second = 1; second <= 5; ++second) {
        state.apply(orders({{second * 10, 0, second, second * 1'000, 2.5}, {second * 10 + 1, 1, second, second * 1'000, 2.5}}));
        state.tick(second * 1'000 + 999);
    }
    auto points = json::parse(history_json(state))["points"];
    REQUIRE(points.size() == 3);
    CHECK(points[0]["t_ms"] == 3'999);
    CHECK(points[2]["orders"] == 2);
    CHECK(points[2]["revenue"] == 5.0);
    CHECK(json::parse(live_json(state))["orders"] == 10);
}

TEST_CASE("an order is lost only when its group committed past it without a record, however long ago") {
    pipeline_state state(groups, true);
    state.apply(orders({{1, 0, 5, 1'000, 1}}));
    // An hour without a record and without a commit past it: still pending, never lost by a timer.
    state.tick(3'600'000);
    CHECK(group_named(state, "shipping-group", 3'600'000)["lost"] == 0);
    CHECK(json::parse(*order_json(state, 1))["pending"].size() == 3);

    // Committed up to the order (committed offset 5 is the order itself): pending.
    state.apply(commits("shipping-group", {{0, 5, 6}}));
    state.tick(3'601'000);
    CHECK(group_named(state, "shipping-group", 3'601'000)["lost"] == 0);
    // Committed past it: lost.
    state.apply(commits("shipping-group", {{0, 6, 6}}));
    state.tick(3'602'000);
    CHECK(group_named(state, "shipping-group", 3'602'000)["lost"] == 1);
    // A late record (a forged or out-of-order one) makes it processed: lost is recounted.
    state.apply(acks({ack(1, "shipping-group", 3'602'100)}));
    state.tick(3'603'000);
    CHECK(group_named(state, "shipping-group", 3'603'000)["lost"] == 0);
    CHECK(group_named(state, "shipping-group", 3'603'000)["processed"] == 1);
}

TEST_CASE("a replay that starts mid-stream counts no loss for orders it did not see") {
    pipeline_state state(groups, true);
    // Records of older orders (not replayed) and of replayed ones; commits past all of them.
    state.apply(acks({ack(1, "email-group", 900), ack(2, "email-group", 950)}));
    state.apply(orders({{3, 0, 10, 1'000, 1}, {4, 0, 11, 1'100, 1}}));
    state.apply(acks({ack(3, "email-group", 1'010), ack(4, "email-group", 1'110)}));
    state.apply(commits("email-group", {{0, 12, 12}}));
    state.tick(2'000);
    auto email = group_named(state, "email-group", 2'000);
    CHECK(email["lost"] == 0);
    CHECK(email["processed"] == 4);
    CHECK(email["duplicates"] == 0);
    CHECK(email["latency_ms"]["p50"] == 10);
    // A commit that arrives before the order it passes: nothing to count until the order is seen.
    state.apply(commits("email-group", {{0, 20, 20}}));
    state.tick(3'000);
    CHECK(group_named(state, "email-group", 3'000)["lost"] == 0);
    state.apply(orders({{5, 0, 12, 1'200, 1}}));
    state.tick(4'000);
    CHECK(group_named(state, "email-group", 4'000)["lost"] == 1);
}

TEST_CASE("orders processed more than once are counted once each, and lost orders stay counted when forgotten") {
    state_limits limits;
    limits.max_traces = 2;
    pipeline_state state(groups, true, limits);
    state.apply(orders({{1, 0, 0, 1'000, 1}}));
    state.apply(acks({ack(1, "shipping-group", 1'010), ack(1, "shipping-group", 1'020), ack(1, "shipping-group", 1'030)}));
    CHECK(group_named(state, "shipping-group", 1'100)["duplicates"] == 1);
    CHECK(json::parse(*order_json(state, 1))["processed"]["shipping-group"]["times"] == 3);

    state.apply(orders({{2, 0, 1, 1'100, 1}}));
    state.apply(commits("analytics-group", {{0, 2, 2}}));
    state.tick(2'000);
    CHECK(group_named(state, "analytics-group", 2'000)["lost"] == 2);
    // Two newer orders push both out of the traces; their loss is not forgotten.
    state.apply(orders({{3, 0, 2, 1'200, 1}, {4, 0, 3, 1'300, 1}}));
    state.tick(3'000);
    CHECK_FALSE(order_json(state, 1));
    CHECK(group_named(state, "analytics-group", 3'000)["lost"] == 2);
}

TEST_CASE("members are labelled by the process they are and joined with the daemon's processes") {
    pipeline_state state(groups, true);
    processing_seen record{1, "email-group", 1'000, "0x7f00deadbeef", "email-group@this-host#4242", 0, 0};
    processing_seen other{2, "email-group", 1'000, "rdkafka-1", "email-group@elsewhere#4242", 1, 0};
    observation report;
    report.processing = {record, other};
    state.apply(std::move(report));
    orderstream::http::local_process email;
    email.name = "email";
    email.pid = 4242;
    auto listed = json::parse(orderstream::http::groups_json(state, 1'500, {email}, "this-host"));
    json members;
    for (const auto& group : listed)
        if (group["group"] == "email-group") members = group["members"];
    REQUIRE(members.size() == 2);
    CHECK(members[0]["label"] == "email-group@elsewhere#4242");
    CHECK(members[0]["external"] == true);
    CHECK(members[1]["label"] == "email-group@this-host#4242");
    CHECK(members[1]["process"] == "email");
    CHECK(members[1]["member_id"] == "0x7f00deadbeef");
    CHECK(members[1]["partitions"] == json{0});
}

TEST_CASE("orders processed again after a reset back are replayed, not duplicates") {
    pipeline_state state(groups, true);
    state.apply(orders({{1, 0, 0, 1'000, 1}, {2, 0, 1, 1'000, 1}, {3, 0, 2, 1'000, 1}}));
    state.apply(acks({ack(1, "analytics-group", 1'100, "m", 0), ack(2, "analytics-group", 1'100, "m", 0),
                      ack(3, "analytics-group", 1'100, "m", 0), ack(1, "email-group", 1'100, "m", 0)}));
    // Analytics back from offset 3 to 1: orders 2 and 3 are processed again.
    state.offsets_reset({"analytics-group", "r1", {{0, 3, 1}}});
    processing_seen again2{2, "analytics-group", 5'000, "m", "", 0, 1}, again3{3, "analytics-group", 5'000, "m", "", 0, 2};
    state.apply(acks({again2, again3}));
    auto analytics = group_named(state, "analytics-group", 5'000);
    CHECK(analytics["processed"] == 5);
    CHECK(analytics["replayed"] == 2);
    CHECK(analytics["duplicates"] == 0);
    // A third record of order 2 was not asked for: a duplicate.
    state.apply(acks({again2}));
    analytics = group_named(state, "analytics-group", 5'000);
    CHECK(analytics["duplicates"] == 1);
    CHECK(analytics["replayed"] == 2);
    // Email was not reset: its second record of order 1 is a duplicate.
    state.apply(acks({ack(1, "email-group", 6'000, "m", 0)}));
    CHECK(group_named(state, "email-group", 6'000)["duplicates"] == 1);
    CHECK(group_named(state, "email-group", 6'000)["replayed"] == 0);
}

TEST_CASE("a replay read before the records it repeats still counts as a replay") {
    pipeline_state state(groups, true);
    state.apply(orders({{1, 0, 0, 1'000, 1}}));
    state.offsets_reset({"shipping-group", "r1", {{0, 1, 0}}});
    // The observer reads the original record only now, then the replay's.
    state.apply(acks({ack(1, "shipping-group", 1'100, "m", 0)}));
    processing_seen replay{1, "shipping-group", 9'000, "m", "", 0, 0};
    state.apply(acks({replay}));
    auto shipping = group_named(state, "shipping-group", 9'000);
    CHECK(shipping["processed"] == 2);
    CHECK(shipping["replayed"] == 1);
    CHECK(shipping["duplicates"] == 0);
}

TEST_CASE("orders a reset moves a group past are skipped, and dead-lettered orders are not lost") {
    pipeline_state state(groups, true);
    state.apply(orders({{1, 0, 0, 1'000, 1}, {2, 0, 1, 1'000, 1}, {3, 0, 2, 1'000, 1}}));
    state.offsets_reset({"email-group", "r1", {{0, 0, 2}}});
    observation letter;
    letter.dead_letters.push_back({"too_large", "payload is 900 bytes", "email-group", 0, 2, 1'500, "{…}"});
    state.apply(std::move(letter));
    state.apply(commits("email-group", {{0, 3, 3}}));
    state.tick(2'000);
    auto email = group_named(state, "email-group", 2'000);
    CHECK(email["lost"] == 0);
    CHECK(email["skipped"] == 2);
    auto trace = json::parse(*order_json(state, 3));
    CHECK(trace["dead_lettered_by"] == json{"email-group"});
    CHECK(trace["lost"] == false);
    CHECK(json::parse(*order_json(state, 1))["skipped_by"] == json{"email-group"});
    // Shipping committed past order 1 with no record and no reset: that is a loss.
    state.apply(commits("shipping-group", {{0, 1, 3}}));
    state.tick(3'000);
    CHECK(group_named(state, "shipping-group", 3'000)["lost"] == 1);
}

TEST_CASE("a redriven order reaching a group that had processed it is a replay; the dead letter shows the redrive") {
    pipeline_state state(groups, true);
    state.apply(orders({{5, 1, 7, 1'000, 1}}));
    state.apply(acks({ack(5, "shipping-group", 1'100, "m", 1)}));
    observation letter;
    letter.dead_letters.push_back({"too_large", "", "email-group", 1, 7, 1'200, ""});
    letter.dead_letters.back().partition = 0;
    letter.dead_letters.back().offset = 4;
    state.apply(std::move(letter));
    // The redrive: the same order again at partition 1 offset 12.
    observation redriven;
    order_seen again;
    again.order_id = 5;
    again.partition = 1;
    again.offset = 12;
    again.timestamp_ms = 8'000;
    again.total = 1;
    again.redriven = 1;
    again.redrive_of_partition = 1;
    again.redrive_of_offset = 7;
    redriven.orders.push_back(again);
    state.apply(std::move(redriven));
    processing_seen shipping_again{5, "shipping-group", 8'100, "m", "", 1, 12}, email_first{5, "email-group", 8'100, "m", "", 1, 12};
    state.apply(acks({shipping_again, email_first}));
    auto shipping = group_named(state, "shipping-group", 9'000);
    CHECK(shipping["duplicates"] == 0);
    CHECK(shipping["replayed"] == 1);
    auto email = group_named(state, "email-group", 9'000);
    CHECK(email["processed"] == 1);
    CHECK(email["replayed"] == 0);
    auto letters = json::parse(dead_letters_json(state))["recent"];
    REQUIRE(letters.size() == 1);
    CHECK(letters[0]["dlq_offset"] == 4);
    CHECK(letters[0]["redriven"]["count"] == 1);
    CHECK(letters[0]["redriven"]["offset"] == 12);
}

TEST_CASE("the order search filters by user, item, total and time, newest first and bounded") {
    pipeline_state state(groups, true);
    observation report;
    const char* users[] = {"alice_smith", "bob_jones"};
    for (int i = 0; i < 10; ++i) {
        order_seen o;
        o.order_id = 100 + i;
        o.partition = 0;
        o.offset = i;
        o.timestamp_ms = 1'000 * i;
        o.total = 10.0 * i;
        o.user = users[i % 2];
        o.items = i % 3 == 0 ? "Wireless Mouse, USB-C Cable" : "Desk Lamp";
        report.orders.push_back(o);
    }
    state.apply(std::move(report));
    auto ids = [&](pipeline_state::order_query query) {
        std::vector<std::int64_t> found;
        for (const auto* t : state.search(query)) found.push_back(t->order_id);
        return found;
    };
    pipeline_state::order_query query;
    query.user = "alice_smith";
    CHECK(ids(query) == std::vector<std::int64_t>{108, 106, 104, 102, 100});
    query = {};
    query.item = "usb-c";
    CHECK(ids(query) == std::vector<std::int64_t>{109, 106, 103, 100});
    query = {};
    query.min_total = 30;
    query.max_total = 50;
    CHECK(ids(query) == std::vector<std::int64_t>{105, 104, 103});
    query = {};
    query.from_ms = 2'000;
    query.to_ms = 4'000;
    CHECK(ids(query) == std::vector<std::int64_t>{103, 102});
    query = {};
    query.limit = 2;
    CHECK(ids(query) == std::vector<std::int64_t>{109, 108});
    auto body = json::parse(orderstream::http::orders_search_json(state, query));
    CHECK(body["orders"][0]["trace"] == "/api/orders/109");
    CHECK(body["orders"][0]["user"] == "bob_jones");
}

TEST_CASE("a reset's marker read after the replays it explains turns their duplicates into replays, once") {
    pipeline_state state(groups, true);
    state.apply(orders({{1, 0, 0, 1'000, 1}, {2, 0, 1, 1'000, 1}}));
    // A restarted daemon reads both processings of each order, then the reset's marker.
    processing_seen first1{1, "analytics-group", 1'100, "m", "", 0, 0}, first2{2, "analytics-group", 1'100, "m", "", 0, 1};
    processing_seen again1{1, "analytics-group", 5'000, "m", "", 0, 0}, again2{2, "analytics-group", 5'000, "m", "", 0, 1};
    state.apply(acks({first1, first2, again1, again2}));
    CHECK(group_named(state, "analytics-group", 6'000)["duplicates"] == 2);
    observation marker;
    marker.resets.push_back({"analytics-group", "host#1/analytics-group@4000", {{0, 2, 0}}});
    state.apply(std::move(marker));
    auto analytics = group_named(state, "analytics-group", 6'000);
    CHECK(analytics["duplicates"] == 0);
    CHECK(analytics["replayed"] == 2);
    CHECK(analytics["processed"] == 4);
    // The same marker again (the live reset and its marker read back) changes nothing.
    state.offsets_reset({"analytics-group", "host#1/analytics-group@4000", {{0, 2, 0}}});
    state.apply(acks({again1}));
    analytics = group_named(state, "analytics-group", 6'000);
    CHECK(analytics["replayed"] == 2);
    CHECK(analytics["duplicates"] == 1);
}

TEST_CASE("many redrives do not push a reset's replays out, and a live reset leaves earlier duplicates alone") {
    pipeline_state state(groups, true);
    state.apply(orders({{1, 0, 0, 1'000, 1}}));
    processing_seen first{1, "email-group", 1'100, "m", "", 0, 0};
    // A real duplicate before the reset: it stays one when the reset is applied as it happens.
    state.apply(acks({first, first}));
    state.offsets_reset({"email-group", "live", {{0, 1, 0}}}, false);
    CHECK(group_named(state, "email-group", 2'000)["duplicates"] == 1);
    // Redrives of 100 other orders email had processed.
    for (std::int64_t id = 100; id < 200; ++id) {
        state.apply(orders({{id, 1, id, 1'000, 1}}));
        processing_seen done{id, "email-group", 1'100, "m", "", 1, id};
        state.apply(acks({done}));
        observation redriven;
        order_seen again;
        again.order_id = id;
        again.partition = 1;
        again.offset = 1'000 + id;
        again.timestamp_ms = 2'000;
        again.redriven = 1;
        redriven.orders.push_back(again);
        state.apply(std::move(redriven));
    }
    // The reset's replay of order 1 still counts as one.
    processing_seen replay{1, "email-group", 3'000, "m", "", 0, 0};
    state.apply(acks({replay}));
    auto email = group_named(state, "email-group", 3'000);
    CHECK(email["replayed"] == 1);
    CHECK(email["duplicates"] == 1);
}

TEST_CASE("a cluster waited for shows its brokers and the reason, judges no group healthy, and clears with the next reading") {
    pipeline_state state(groups, false);
    observation waiting;
    waiting.cluster.emplace();
    waiting.cluster->reachable = true;
    waiting.cluster->waiting = "the cluster shows 2 broker(s); waiting for 3";
    waiting.cluster->brokers = {{1, "h:1"}, {2, "h:2"}};
    state.apply(std::move(waiting));
    auto cluster = json::parse(orderstream::http::cluster_json(state));
    CHECK(cluster["reachable"] == true);
    CHECK(cluster["waiting"] == "the cluster shows 2 broker(s); waiting for 3");
    CHECK(cluster["brokers"].size() == 2);
    CHECK(json::parse(live_json(state))["cluster_waiting"] == true);
    // No offsets can be read while the topics are not there, as when Kafka is unreachable; this
    // says so from the first tick (a cluster that answers would have the window's grace).
    state.tick(1000);
    REQUIRE(state.health("shipping-group"));
    CHECK(state.health("shipping-group")->status == group_status::err);

    observation reading;  // the observer's first reading once the topics exist
    reading.cluster.emplace();
    reading.cluster->reachable = true;
    reading.cluster->brokers = {{1, "h:1"}, {2, "h:2"}, {3, "h:3"}};
    state.apply(std::move(reading));
    cluster = json::parse(orderstream::http::cluster_json(state));
    CHECK(cluster["waiting"].is_null());
    CHECK(json::parse(live_json(state))["cluster_waiting"] == false);
}
