// gzip for shared bodies: which Accept-Encoding values take it, and that what is sent inflates
// back to the very bytes of the identity response, for /api/outputs and the page's files.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <zlib.h>

#include "http/content_coding.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"

using namespace orderstream;
namespace beast_http = boost::beast::http;

namespace {

// What a browser does with a gzip body: zlib's inflate, with the gzip wrapper required.
std::string gunzip(std::string_view data) {
    z_stream stream{};
    REQUIRE(inflateInit2(&stream, 16 + 15) == Z_OK);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    std::string out;
    int status = Z_OK;
    while (status == Z_OK) {
        char chunk[16384];
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof chunk;
        status = inflate(&stream, Z_NO_FLUSH);
        out.append(chunk, sizeof chunk - stream.avail_out);
    }
    inflateEnd(&stream);
    REQUIRE(status == Z_STREAM_END);
    REQUIRE(stream.avail_in == 0);  // one member, nothing after it
    return out;
}

struct fixture {
    boost::asio::io_context io;
    capture::output_store store{{"producer", "shipping"}, 1000};
    supervision::supervisor supervisor{io, {}, store, {}};
    http::router router{store, supervisor, ""};

    fixture() { router.set_access_policy(http::access_policy("", http::own_hosts_for("127.0.0.1", 8080, {}))); }

    http::shared_response get(const std::string& target, const std::string& accept_encoding = "",
                              const std::string& if_none_match = "") {
        http::request req{beast_http::verb::get, target, 11};
        req.set(beast_http::field::host, "127.0.0.1:8080");
        if (!accept_encoding.empty()) req.set(beast_http::field::accept_encoding, accept_encoding);
        if (!if_none_match.empty()) req.set(beast_http::field::if_none_match, if_none_match);
        auto reply = router.handle_shared(req);
        REQUIRE(reply);
        return std::move(*reply);
    }
};

std::string header(const http::shared_response& reply, beast_http::field field) {
    return std::string(reply.head[field]);
}

}  // namespace

TEST_CASE("Accept-Encoding takes gzip only where the client says so") {
    CHECK(http::accepts_gzip("gzip"));
    CHECK(http::accepts_gzip("gzip, deflate, br"));      // Chromium's
    CHECK(http::accepts_gzip("br;q=1.0, GZip;q=0.5"));   // codings are case-insensitive
    CHECK(http::accepts_gzip("x-gzip"));
    CHECK(http::accepts_gzip("*"));
    CHECK(http::accepts_gzip("identity, *;q=0.1"));
    CHECK(http::accepts_gzip(" gzip ; q=1 "));
    CHECK_FALSE(http::accepts_gzip(""));
    CHECK_FALSE(http::accepts_gzip("identity"));
    CHECK_FALSE(http::accepts_gzip("deflate, br"));
    CHECK_FALSE(http::accepts_gzip("gzip;q=0"));
    CHECK_FALSE(http::accepts_gzip("gzip;q=0.000"));
    CHECK_FALSE(http::accepts_gzip("*, gzip;q=0"));      // named beats the wildcard
    CHECK_FALSE(http::accepts_gzip("*;q=0"));
    // A q-value that cannot be read counts as 0: the identity is always safe.
    CHECK_FALSE(http::accepts_gzip("gzip;q=2"));
    CHECK_FALSE(http::accepts_gzip("gzip;q=0.5x"));
    CHECK_FALSE(http::accepts_gzip("gzip;q="));
    CHECK(http::accepts_gzip(",,gzip,;"));
}

TEST_CASE("gzip round-trips empty, small and large bodies") {
    CHECK(gunzip(http::gzip("").value()).empty());
    CHECK(gunzip(http::gzip("x").value()) == "x");
    std::string big;
    for (int i = 0; i < 100000; ++i) big += "{\"timestamp\":\"12:00:00\",\"line\":\"order " + std::to_string(i) + "\"},";
    const auto packed = http::gzip(big).value();
    CHECK(gunzip(packed) == big);
    CHECK(packed.size() < big.size() / 4);
    const auto best = http::gzip(big, http::gzip_best).value();
    CHECK(gunzip(best) == big);
    CHECK(best.size() <= packed.size());
}

TEST_CASE("the whole rings go gzipped to a client that takes gzip, and follow the rings") {
    fixture f;
    for (int i = 0; i < 500; ++i) f.store.append(i % 2, "\x1b[32mline " + std::to_string(i) + "\x1b[0m");
    for (const std::string target : {"/api/outputs", "/api/outputs?strip_ansi=1"}) {
        INFO(target);
        auto plain = f.get(target);
        CHECK(header(plain, beast_http::field::content_encoding).empty());
        CHECK(header(plain, beast_http::field::vary) == "Accept-Encoding");
        auto packed = f.get(target, "gzip, deflate, br");
        CHECK(header(packed, beast_http::field::content_encoding) == "gzip");
        CHECK(header(packed, beast_http::field::vary) == "Accept-Encoding");
        CHECK(header(packed, beast_http::field::content_length) == std::to_string(packed.body.size()));
        CHECK(packed.body.size() < plain.body.size() / 4);
        CHECK(gunzip(packed.body) == plain.body);
        // The compressed copy is made once per change of the rings: the next asker shares it.
        CHECK(f.get(target, "gzip").body.data() == packed.body.data());
    }
    // A new line: a new body, and a new compressed copy of it.
    auto before = f.get("/api/outputs", "gzip");
    f.store.append(1, "the newest line");
    auto after = f.get("/api/outputs", "gzip");
    CHECK(gunzip(after.body) == std::string(f.get("/api/outputs").body));
    CHECK(gunzip(after.body).find("the newest line") != std::string::npos);
    // The earlier response still holds its own bytes while it is being sent.
    CHECK(gunzip(before.body).find("the newest line") == std::string::npos);
}

TEST_CASE("a page file gzipped has an ETag of its own, and 304 answers each representation") {
    fixture f;
    auto plain = f.get("/app.js");
    auto packed = f.get("/app.js", "gzip");
    const auto plain_etag = header(plain, beast_http::field::etag);
    const auto packed_etag = header(packed, beast_http::field::etag);
    CHECK(header(packed, beast_http::field::content_encoding) == "gzip");
    CHECK(header(plain, beast_http::field::vary) == "Accept-Encoding");
    CHECK(gunzip(packed.body) == std::string(plain.body));
    CHECK(packed.body.size() < plain.body.size());
    CHECK(plain_etag != packed_etag);
    auto not_modified = f.get("/app.js", "gzip", packed_etag);
    CHECK(not_modified.head.result() == beast_http::status::not_modified);
    CHECK(header(not_modified, beast_http::field::vary) == "Accept-Encoding");  // caches key on it
    CHECK(header(not_modified, beast_http::field::content_encoding).empty());
    CHECK(not_modified.body.empty());
    CHECK(f.get("/app.js", "", plain_etag).head.result() == beast_http::status::not_modified);
    // A cached plain copy does not validate the gzipped one, nor the other way round.
    CHECK(f.get("/app.js", "gzip", plain_etag).head.result() == beast_http::status::ok);
    CHECK(f.get("/app.js", "", packed_etag).head.result() == beast_http::status::ok);
}

TEST_CASE("If-None-Match takes a list of entity tags, weak ones and * as RFC 9110 says") {
    CHECK(http::none_match_hits(R"("a")", R"("a")"));
    CHECK(http::none_match_hits(R"("x", "a")", R"("a")"));
    CHECK(http::none_match_hits(R"("x","a")", R"("a")"));
    CHECK(http::none_match_hits(R"(W/"a")", R"("a")"));  // If-None-Match compares weakly
    CHECK(http::none_match_hits(" * ", R"("a")"));
    CHECK(http::none_match_hits(R"("a,b", "c")", R"("c")"));  // a comma inside quotes ends nothing
    CHECK_FALSE(http::none_match_hits(R"("a,b")", R"("a")"));
    CHECK_FALSE(http::none_match_hits(R"("a-gzip")", R"("a")"));
    CHECK_FALSE(http::none_match_hits("", R"("a")"));
    CHECK_FALSE(http::none_match_hits("a", R"("a")"));             // unquoted: malformed
    CHECK_FALSE(http::none_match_hits(R"("x", a, "a")", R"("a")"));  // malformed from there on
    CHECK_FALSE(http::none_match_hits(R"("a)", R"("a")"));           // never closed
    CHECK_FALSE(http::none_match_hits(R"("a", junk)", R"("a")"));    // malformed after the match too

    // Through the router: a browser holding both copies sends both tags.
    fixture f;
    const auto plain_etag = header(f.get("/app.js"), beast_http::field::etag);
    const auto packed_etag = header(f.get("/app.js", "gzip"), beast_http::field::etag);
    const auto both = plain_etag + ", W/" + packed_etag;
    CHECK(f.get("/app.js", "gzip", both).head.result() == beast_http::status::not_modified);
    CHECK(f.get("/app.js", "", both).head.result() == beast_http::status::not_modified);
    CHECK(f.get("/app.js", "", "\"other\", *").head.result() == beast_http::status::ok);  // not "*" alone
}

TEST_CASE("the incremental /api/outputs?since= is never gzipped: it is small and different each time") {
    fixture f;
    f.store.append(0, "a line");
    http::request req{beast_http::verb::get, "/api/outputs?since=0", 11};
    req.set(beast_http::field::host, "127.0.0.1:8080");
    req.set(beast_http::field::accept_encoding, "gzip");
    CHECK_FALSE(f.router.handle_shared(req));
    auto res = f.router.handle(req);
    CHECK(res.result() == beast_http::status::ok);
    CHECK(res[beast_http::field::content_encoding].empty());
    CHECK(res.body().find("a line") != std::string::npos);
}
