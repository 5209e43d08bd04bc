// Chunks from a pipe become whole lines: split anywhere, long lines cut, bad UTF-8 repaired.
#include <catch2/catch.hpp>

#include "capture/line_assembler.hpp"

using namespace orderstream::capture;

namespace {
std::vector<std::string> feed_all(line_assembler& lines, std::initializer_list<std::string> chunks,
                                  bool finish = true) {
    std::vector<std::string> out;
    auto collect = [&](std::string_view line) { out.emplace_back(line); };
    for (const auto& chunk : chunks) lines.feed(chunk, collect);
    if (finish) lines.finish(collect);
    return out;
}
}  // namespace

TEST_CASE("lines split across chunks are joined, CRLF and LF both end a line") {
    line_assembler lines(100);
    auto out = feed_all(lines, {"hel", "lo\nwor", "ld\r\n\n", "last"}, false);
    CHECK(out == std::vector<std::string>{"hello", "world", ""});
    auto collect = [&](std::string_view line) { out.emplace_back(line); };
    lines.finish(collect);
    CHECK(out.back() == "last");  // a trailing partial line is kept at end of file
}

TEST_CASE("a line longer than the limit is cut with a marker and the rest is dropped") {
    line_assembler lines(10);
    auto out = feed_all(lines, {"0123456789abcdef", "ghij\nnext\n"});
    REQUIRE(out.size() == 2);
    CHECK(out[0] == "0123456789" + std::string(cut_marker));
    CHECK(out[1] == "next");

    line_assembler whole(10);
    out = feed_all(whole, {"0123456789ABCDEFGHIJ\n"});
    CHECK(out == std::vector<std::string>{"0123456789" + std::string(cut_marker)});
}

TEST_CASE("a cut never splits a UTF-8 character") {
    line_assembler lines(4);
    auto out = feed_all(lines, {"abc\xC3\xA9xyz\n"});  // é straddles the 4-byte limit
    REQUIRE(out.size() == 1);
    CHECK(out[0] == "abc" + std::string(cut_marker));
}

TEST_CASE("invalid UTF-8 in a line is replaced by U+FFFD") {
    line_assembler lines(100);
    auto out = feed_all(lines, {"bad \x80 byte\n"});
    CHECK(out == std::vector<std::string>{"bad \xEF\xBF\xBD byte"});
}
