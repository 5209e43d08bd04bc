// Processing records as the observer decodes them: batches, the older single form, and records
// forged by anyone who can write to orders.acks.
#include <catch2/catch.hpp>

#include "kafka/processing_record.hpp"

using orderstream::kafka::decode_processing_record;
using orderstream::pipeline::processing_seen;

TEST_CASE("a batch yields one entry per order, for the watched topic only") {
    const std::string batch =
        R"({"group":"email-group","client":"email-group@h#7","topic":"orders","acks":[)"
        R"({"order_id":1001,"group":"email-group","member":"m1","partition":2,"offset":40,"processed_ms":1700000000123},)"
        R"({"order_id":1002,"group":"email-group","member":"m1","partition":0,"offset":7,"processed_ms":1700000000124}]})";
    std::vector<processing_seen> out;
    CHECK(decode_processing_record(batch, "orders", 5, out) == 2);
    REQUIRE(out.size() == 2);
    CHECK(out[0].order_id == 1001);
    CHECK(out[0].group == "email-group");
    CHECK(out[0].client == "email-group@h#7");
    CHECK(out[0].member == "m1");
    CHECK(out[0].partition == 2);
    CHECK(out[0].offset == 40);
    CHECK(out[0].processed_ms == 1700000000123);
    // Another pipeline's topic on the same acks topic.
    CHECK(decode_processing_record(batch, "orders-test-2", 5, out) == 0);
}

TEST_CASE("an older single record counts for the orders topic, its record time standing in") {
    std::vector<processing_seen> out;
    CHECK(decode_processing_record(R"({"order_id":7,"group":"shipping-group"})", "orders", 1234, out) == 1);
    CHECK(out.at(0).processed_ms == 1234);
    CHECK(out.at(0).partition == -1);
    CHECK(decode_processing_record(R"({"order_id":7,"group":"shipping-group"})", "other", 1234, out) == 0);
}

TEST_CASE("forged records with wrong types or out-of-range numbers are dropped, never thrown") {
    const char* forged[] = {
        "not json",
        "[1,2,3]",
        R"({"order_id":"1","group":"g"})",
        R"({"order_id":1,"group":7})",
        R"({"order_id":18446744073709551615,"group":"g"})",
        R"({"order_id":1,"group":"g","processed_ms":-5})",
        R"({"order_id":1,"group":"g","processed_ms":9223372036854775807})",
        R"({"order_id":1,"group":"g","processed_ms":"soon"})",
        R"({"order_id":1,"group":"g","processed_ms":1.5})",
        R"({"topic":"orders","acks":"many"})",
        R"({"topic":"orders","acks":[1,"x",null,{"order_id":1}]})",
    };
    for (const char* text : forged) {
        INFO(text);
        std::vector<processing_seen> out;
        CHECK(decode_processing_record(text, "orders", 1000, out) == 0);
    }
    // Out-of-range partitions and offsets are dropped from the entry, not the entry itself.
    std::vector<processing_seen> out;
    CHECK(decode_processing_record(R"({"order_id":1,"group":"g","partition":-3,"offset":-1})", "orders", 1000, out) == 1);
    CHECK(out.at(0).partition == -1);
    CHECK(out.at(0).offset == -1);
    // Over-long labels are not ours.
    CHECK(decode_processing_record(R"({"order_id":1,"group":")" + std::string(300, 'g') + R"("})", "orders", 1000, out) == 0);
}

TEST_CASE("a reset marker is read back as written, and a forged one is dropped") {
    using orderstream::kafka::encode_reset_marker;
    using orderstream::pipeline::offsets_reset_seen;
    const offsets_reset_seen reset{"analytics-group", "vm#42/analytics-group@1700000000000", {{0, 412, 0}, {2, -1, 7}}};
    std::vector<processing_seen> out;
    std::vector<offsets_reset_seen> resets;
    CHECK(decode_processing_record(encode_reset_marker(reset, "orders"), "orders", 5, out, &resets) == 0);
    CHECK(out.empty());
    REQUIRE(resets.size() == 1);
    CHECK(resets[0].group == "analytics-group");
    CHECK(resets[0].id == reset.id);
    REQUIRE(resets[0].moves.size() == 2);
    CHECK(resets[0].moves[0].from == 412);
    CHECK(resets[0].moves[1].partition == 2);
    CHECK(resets[0].moves[1].from == -1);
    // Another topic's, a wrong type, an offset below -1: not taken.
    for (const char* forged : {R"({"group":"g","topic":"other","reset_id":"x","reset":[]})",
                               R"({"group":"g","topic":"orders","reset_id":"x","reset":[{"partition":"0","from":1,"to":0}]})",
                               R"({"group":"g","topic":"orders","reset_id":"x","reset":[{"partition":0,"from":-2,"to":0}]})",
                               R"({"group":"","topic":"orders","reset_id":"x","reset":[]})"}) {
        resets.clear();
        decode_processing_record(forged, "orders", 5, out, &resets);
        CHECK(resets.empty());
    }
}
