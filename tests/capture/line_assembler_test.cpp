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

TEST_CASE("invalid UTF-8 is replaced by U+FFFD, valid text is untouched") {
    std::string scratch;
    CHECK(sanitize_utf8("plain ascii", scratch) == "plain ascii");
    CHECK(sanitize_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA6", scratch) ==
          "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA6");
    CHECK(sanitize_utf8("a\xFFz", scratch) == "a\xEF\xBF\xBDz");
    CHECK(sanitize_utf8("\xC0\xAF", scratch) == "\xEF\xBF\xBD\xEF\xBF\xBD");      // overlong
    CHECK(sanitize_utf8("\xED\xA0\x80", scratch) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    CHECK(sanitize_utf8("end\xE2\x82", scratch) == "end\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
    // ASCII is checked eight bytes at a time: a bad byte is found at every offset of a long line.
    for (std::size_t at = 0; at < 21; ++at) {
        std::string line(21, 'x');
        line[at] = '\xFF';
        std::string expected = line.substr(0, at) + "\xEF\xBF\xBD" + line.substr(at + 1);
        CAPTURE(at);
        CHECK(sanitize_utf8(line, scratch) == expected);
    }

    line_assembler lines(100);
    auto out = feed_all(lines, {"bad \x80 byte\n"});
    CHECK(out == std::vector<std::string>{"bad \xEF\xBF\xBD byte"});
}
