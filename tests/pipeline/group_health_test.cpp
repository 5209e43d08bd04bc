// A consumer group's health from a window of its commits, judged by rules as Burrow does.
#include <catch2/catch.hpp>

#include "pipeline/group_health.hpp"

using namespace orderstream::pipeline;

namespace {

constexpr std::int64_t window = 10000;

// One partition's readings, one a second: committed offset and end offset.
group_health readings(std::initializer_list<std::pair<std::int64_t, std::int64_t>> points, std::int64_t start_ms = 0) {
    group_health health(window);
    std::int64_t t = start_ms;
    for (auto [committed, end] : points) {
        health.sample(t, {group_partition{0, committed, end}});
        t += 1000;
    }
    return health;
}

local_member holding(std::string name, std::vector<int> partitions) {
    local_member member;
    member.name = std::move(name);
    member.alive = true;
    member.claimed_ms.assign(partitions.size(), 1);
    member.partitions = std::move(partitions);
    return member;
}

// Twelve readings of a committed offset that stands at 100 while orders keep coming.
group_health stuck() {
    return readings({{100, 150}, {100, 160}, {100, 170}, {100, 180}, {100, 190}, {100, 200}, {100, 210},
                     {100, 220}, {100, 230}, {100, 240}, {100, 250}, {100, 260}});
}

// Twelve readings a second apart, so a whole window lies behind the last one (at 11 s).
constexpr std::int64_t now = 11000;

}  // namespace

TEST_CASE("lag that reaches zero in the window is OK, however large it was") {
    auto health = readings({{0, 500}, {0, 900}, {100, 900}, {900, 900}, {900, 950}, {900, 1000}, {900, 1050},
                            {900, 1100}, {900, 1150}, {900, 1200}, {900, 1250}, {900, 1300}});
    // The committed offset has not moved for 8 s, but lag was zero inside the window.
    CHECK(health.evaluate(now, true, {holding("shipping", {0})}, {}).status == group_status::ok);
}

TEST_CASE("commits that move while the lag only grows are WARN") {
    auto health = readings({{0, 100}, {10, 120}, {20, 140}, {30, 160}, {40, 180}, {50, 200}, {60, 220}, {70, 240},
                            {80, 260}, {90, 280}, {100, 300}, {110, 320}});
    auto verdict = health.evaluate(now, true, {holding("shipping", {0})}, {});
    CHECK(verdict.status == group_status::warn);
    CHECK_THAT(verdict.reason, Catch::Contains("lag only grew"));
    CHECK(verdict.stalled_members.empty());
}

TEST_CASE("commits that keep up with a steady lag are OK") {
    auto health = readings({{0, 50}, {50, 100}, {100, 150}, {150, 190}, {190, 250}, {250, 300}, {300, 350},
                            {350, 400}, {400, 450}, {450, 500}, {500, 550}, {550, 600}});
    CHECK(health.evaluate(now, true, {holding("shipping", {0})}, {}).status == group_status::ok);
}

TEST_CASE("a committed offset that stands still with lag is STALL when held, STOP when nobody holds it") {
    auto health = stuck();
    auto held = health.evaluate(now, true, {holding("shipping-2", {0}), holding("shipping", {1, 2})}, {});
    CHECK(held.status == group_status::stall);
    CHECK(held.stalled_members == std::set<std::string>{"shipping-2"});
    CHECK_THAT(held.reason, Catch::Contains("partition 0: the committed offset has not moved for 10 s while 160 orders wait; held by shipping-2"));

    auto stopped_member = holding("shipping", {0});
    stopped_member.alive = false;  // stopped by hand: nobody consumes
    auto nobody = health.evaluate(now, true, {stopped_member}, {});
    CHECK(nobody.status == group_status::stop);
    CHECK(nobody.stalled_members.empty());

    // A member the cluster describes (another host's) holds it: STALL, but not ours to restart.
    group_member remote{"m-1", "shipping-group@other#7", "/10.0.0.2", {0}};
    auto foreign = health.evaluate(now, true, {}, {remote});
    CHECK(foreign.status == group_status::stall);
    CHECK_THAT(foreign.reason, Catch::Contains("held by shipping-group@other#7"));
    CHECK(foreign.stalled_members.empty());
}

TEST_CASE("the latest claim to a partition names its holder") {
    auto health = stuck();
    auto old_claim = holding("shipping", {0});
    auto new_claim = holding("shipping-2", {0});
    new_claim.claimed_ms = {5};
    CHECK(health.evaluate(now, true, {old_claim, new_claim}, {}).stalled_members == std::set<std::string>{"shipping-2"});
}

TEST_CASE("less than a whole window is not judged") {
    auto health = readings({{100, 150}, {100, 160}, {100, 170}, {100, 180}});
    CHECK(health.evaluate(3000, true, {holding("shipping", {0})}, {}).status == group_status::ok);
}

TEST_CASE("unreadable offsets or a crashed consumer of ours are ERR, whatever the offsets say") {
    auto frozen = stuck();
    auto unreadable = frozen.evaluate(now, false, {holding("shipping", {0})}, {});
    CHECK(unreadable.status == group_status::err);
    CHECK(unreadable.reason == "the group's committed offsets cannot be read");
    CHECK(unreadable.stalled_members.empty());  // nobody is restarted for an outage
    // Readings that stopped coming a while ago are not judged either.
    CHECK(frozen.evaluate(now + 20000, true, {holding("shipping", {0})}, {}).stalled_members.empty());
    auto health = readings({{0, 0}, {0, 0}});

    auto crashed = holding("email-2", {});
    crashed.alive = false;
    crashed.gone = "BACKOFF";
    auto verdict = health.evaluate(now, true, {holding("email", {0}), crashed}, {});
    CHECK(verdict.status == group_status::err);
    CHECK(verdict.reason == "email-2 is BACKOFF");
}

TEST_CASE("readings older than the window are dropped, so an old stall does not linger") {
    group_health health(window);
    for (std::int64_t t = 0; t <= 30000; t += 1000) {
        const std::int64_t committed = t < 15000 ? 100 : 100 + t;  // stalled, then moving again
        health.sample(t, {group_partition{0, committed, committed + 50}});
    }
    CHECK(health.evaluate(30000, true, {holding("shipping", {0})}, {}).status == group_status::ok);
}

TEST_CASE("a partition that just changed hands is not held against its new holder for a window") {
    auto health = stuck();
    auto newcomer = holding("shipping-3", {0});
    newcomer.claimed_ms = {now - 2000};
    auto verdict = health.evaluate(now, true, {newcomer}, {});
    CHECK(verdict.status == group_status::ok);
    CHECK(verdict.stalled_members.empty());
    newcomer.claimed_ms = {now - window - 1};
    CHECK(health.evaluate(now, true, {newcomer}, {}).stalled_members == std::set<std::string>{"shipping-3"});
}

TEST_CASE("while the group has members but none holds a stuck partition (a rebalance), it is STALL, not STOP") {
    auto health = stuck();
    auto verdict = health.evaluate(now, true, {holding("shipping", {})}, {});
    CHECK(verdict.status == group_status::stall);
    CHECK_THAT(verdict.reason, Catch::Contains("no member holds it while the group has members"));
    CHECK(verdict.stalled_members.empty());
}

TEST_CASE("a lag that never shrinks and grows overall is WARN, as Burrow has it") {
    // Lag 100, 110, 110, 120, 120, … 160: it levels off at times, and never shrinks.
    auto health = readings({{0, 100}, {10, 120}, {20, 130}, {30, 150}, {40, 160}, {50, 180}, {60, 190}, {70, 210},
                            {80, 220}, {90, 240}, {100, 250}, {110, 270}});
    CHECK(health.evaluate(now, true, {holding("shipping", {0})}, {}).status == group_status::warn);
}

TEST_CASE("a lag that grows over too few readings is no trend") {
    group_health health(window);
    health.sample(0, {group_partition{0, 0, 10}});
    health.sample(6000, {group_partition{0, 5, 20}});
    health.sample(11000, {group_partition{0, 10, 30}});
    CHECK(health.evaluate(11000, true, {holding("shipping", {0})}, {}).status == group_status::ok);
}
