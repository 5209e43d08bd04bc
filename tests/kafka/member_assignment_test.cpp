// The member assignment decoder: well-formed assignments give the watched topic's partitions,
// and malformed bytes (short, negative counts, counts past the end) give nothing, never a
// read out of bounds.
#include <catch2/catch.hpp>

#include <string>

#include "kafka/member_assignment.hpp"

using orderstream::kafka::assigned_partitions;

namespace {

void put(std::string& out, std::int64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
void put_text(std::string& out, const std::string& text) {
    put(out, static_cast<std::int64_t>(text.size()), 2);
    out += text;
}
std::string assignment(const std::vector<std::pair<std::string, std::vector<std::int32_t>>>& topics) {
    std::string out;
    put(out, 1, 2);
    put(out, static_cast<std::int64_t>(topics.size()), 4);
    for (const auto& [name, partitions] : topics) {
        put_text(out, name);
        put(out, static_cast<std::int64_t>(partitions.size()), 4);
        for (auto p : partitions) put(out, p, 4);
    }
    put(out, -1, 4);  // no user data
    return out;
}

}  // namespace

TEST_CASE("an assignment gives the watched topic's partitions", "[member_assignment]") {
    auto bytes = assignment({{"orders.acks", {0, 1}}, {"orders", {2, 0}}, {"other", {5}}});
    auto partitions = assigned_partitions(bytes.data(), bytes.size(), "orders");
    REQUIRE(partitions);
    CHECK(*partitions == std::vector<std::int32_t>{2, 0});
    auto none = assigned_partitions(bytes.data(), bytes.size(), "payments");
    REQUIRE(none);
    CHECK(none->empty());
}

TEST_CASE("a member with no assignment yet holds nothing", "[member_assignment]") {
    auto partitions = assigned_partitions(nullptr, 0, "orders");
    REQUIRE(partitions);
    CHECK(partitions->empty());
}

TEST_CASE("malformed assignments are refused", "[member_assignment]") {
    const auto good = assignment({{"orders", {0, 1, 2}}});
    for (std::size_t cut = 1; cut < good.size() - 4; ++cut)  // every truncation short of the user data
        CHECK_FALSE(assigned_partitions(good.data(), cut, "orders"));

    std::string huge_count;
    put(huge_count, 0, 2);
    put(huge_count, 0x7fffffff, 4);  // two billion topics in six bytes
    CHECK_FALSE(assigned_partitions(huge_count.data(), huge_count.size(), "orders"));

    std::string negative = assignment({{"orders", {-1}}});
    CHECK_FALSE(assigned_partitions(negative.data(), negative.size(), "orders"));

    std::string negative_version;
    put(negative_version, -1, 2);
    put(negative_version, 0, 4);
    CHECK_FALSE(assigned_partitions(negative_version.data(), negative_version.size(), "orders"));
}
