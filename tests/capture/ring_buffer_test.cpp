// The ring keeps the newest lines in order, with their sequence numbers, and counts what it drops.
#include <catch2/catch.hpp>

#include "capture/output_store.hpp"
#include "capture/ring_buffer.hpp"

using orderstream::capture::output_store;
using orderstream::capture::ring_buffer;

namespace {
const char stamp[9] = "12:34:56";

std::vector<std::string> texts(const ring_buffer& ring) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < ring.size(); ++i) out.push_back(ring.at(i).text);
    return out;
}
}  // namespace

TEST_CASE("ring buffer keeps at most its capacity, newest last") {
    ring_buffer ring(3);
    for (int i = 1; i <= 5; ++i) ring.append(i, stamp, "line " + std::to_string(i));
    CHECK(ring.size() == 3);
    CHECK(texts(ring) == std::vector<std::string>{"line 3", "line 4", "line 5"});
    CHECK(ring.at(0).seq == 3);
    CHECK(ring.at(2).seq == 5);
    CHECK(ring.dropped() == 2);
    CHECK(std::string(ring.at(1).timestamp) == "12:34:56");
}

TEST_CASE("ring buffer clear empties it and later lines still arrive in order") {
    ring_buffer ring(2);
    ring.append(1, stamp, "a");
    ring.append(2, stamp, "b");
    ring.clear();
    CHECK(ring.size() == 0);
    ring.append(3, stamp, "c");
    CHECK(texts(ring) == std::vector<std::string>{"c"});
    CHECK(ring.dropped() == 0);
}

TEST_CASE("first_after finds the lines newer than a sequence number") {
    ring_buffer ring(4);
    for (std::uint64_t seq : {10, 20, 30, 40, 50}) ring.append(seq, stamp, std::to_string(seq));
    // Holds 20, 30, 40, 50
    CHECK(ring.first_after(0) == 0);
    CHECK(ring.first_after(20) == 1);
    CHECK(ring.first_after(25) == 1);
    CHECK(ring.first_after(50) == 4);
    CHECK(ring.first_after(99) == 4);
}

TEST_CASE("output store numbers lines across terminals and clears one or all") {
    output_store store({"producer", "shipping"}, 1000);
    auto producer = *store.find("producer");
    auto shipping = *store.find("shipping");
    CHECK_FALSE(store.find("nope"));
    store.append(producer, "p1");
    store.append(shipping, "s1");
    store.append(producer, "p2");
    CHECK(store.last_seq() == 3);
    const auto& terminals = store.terminals();
    CHECK(terminals[producer].lines.at(1).seq == 3);
    CHECK(terminals[shipping].lines.at(0).seq == 2);
    std::string stamp(terminals[producer].lines.at(0).timestamp);
    CHECK(stamp.size() == 8);
    CHECK(stamp[2] == ':');
    CHECK(stamp[5] == ':');

    store.clear(shipping);
    CHECK(terminals[shipping].lines.size() == 0);
    CHECK(terminals[producer].lines.size() == 2);
    store.clear_all();
    CHECK(terminals[producer].lines.size() == 0);
    store.append(shipping, "s2");
    CHECK(terminals[shipping].lines.at(0).seq == 4);  // numbering goes on after a clear
}
