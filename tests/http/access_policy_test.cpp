// Access to the API: token, Host (DNS rebinding) and Origin (CSRF) checks, through the router.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include "http/router.hpp"

using namespace orderstream;
namespace beast_http = boost::beast::http;

namespace {

const std::string token = "0123456789abcdef0123456789abcdef";

struct fixture {
    boost::asio::io_context io;
    capture::output_store store{{"producer"}, 1000};
    supervision::supervisor supervisor{io, {}, store, {}};
    http::router router{store, supervisor, ""};

    explicit fixture(std::string required_token = "", std::string listen = "127.0.0.1") {
        router.set_access_policy(http::access_policy(required_token, http::own_hosts_for(listen, 8080, {"monitor.example:8080"})));
    }
    int send(beast_http::verb method, const std::string& target, const std::map<std::string, std::string>& headers) {
        http::request req{method, target, 11};
        for (const auto& [name, value] : headers) req.set(name, value);
        return static_cast<int>(router.handle(req).result_int());
    }
};

}  // namespace

TEST_CASE("without a token, the API answers only requests addressed to the daemon's own name") {
    fixture f;
    CHECK(f.send(beast_http::verb::get, "/api/outputs", {{"Host", "127.0.0.1:8080"}}) == 200);
    CHECK(f.send(beast_http::verb::get, "/api/outputs", {{"Host", "localhost:8080"}}) == 200);
    CHECK(f.send(beast_http::verb::get, "/api/outputs", {{"Host", "LOCALHOST:8080"}}) == 200);
    CHECK(f.send(beast_http::verb::get, "/api/outputs", {{"Host", "monitor.example:8080"}}) == 200);
    // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
    CHECK(f.send(beast_http::verb::get, "/api/outputs", {{"Host", "evil.example:8080"}}) == 403);
    CHECK(f.send(beast_http::verb::get, "/api/outputs", {{"Host", "127.0.0.1:9999"}}) == 403);
    CHECK(f.send(beast_http::verb::get, "/api/outputs", {}) == 403);
    CHECK(f.send(beast_http::verb::get, "/metrics", {{"Host", "evil.example:8080"}}) == 403);
    // The page itself stays reachable, and so do the health checks.
    CHECK(f.send(beast_http::verb::get, "/", {{"Host", "evil.example:8080"}}) == 200);
    CHECK(f.send(beast_http::verb::get, "/healthz", {{"Host", "anything"}}) == 200);
}

TEST_CASE("state-changing requests from another origin are refused") {
    fixture f;
    std::map<std::string, std::string> own{{"Host", "127.0.0.1:8080"}};
    CHECK(f.send(beast_http::verb::post, "/api/clear", own) == 200);  // curl: no Origin
    auto same = own;
    same["Origin"] = "http://127.0.0.1:8080";
    CHECK(f.send(beast_http::verb::post, "/api/clear", same) == 200);
    for (const char* origin : {"http://evil.example", "null", "http://127.0.0.1:8081", "http://127.0.0.1:8080.evil.example"}) {
        INFO(origin);
        auto cross = own;
        cross["Origin"] = origin;
        CHECK(f.send(beast_http::verb::post, "/api/clear", cross) == 403);
        CHECK(f.send(beast_http::verb::post, "/api/processes/x/stop", cross) == 403);
    }
}

TEST_CASE("with a token, every API request needs it as a bearer token") {
    fixture f(token, "0.0.0.0");
    std::map<std::string, std::string> headers{{"Host", "dashboard.internal:8080"}};
    CHECK(f.send(beast_http::verb::get, "/api/outputs", headers) == 401);
    headers["Authorization"] = "Bearer wrong";
    CHECK(f.send(beast_http::verb::get, "/api/outputs", headers) == 401);
    headers["Authorization"] = "Bearer " + token.substr(0, token.size() - 1);
    CHECK(f.send(beast_http::verb::get, "/api/outputs", headers) == 401);
    headers["Authorization"] = "Bearer " + token + "x";
    CHECK(f.send(beast_http::verb::get, "/api/outputs", headers) == 401);
    headers["Authorization"] = "Basic " + token;
    CHECK(f.send(beast_http::verb::get, "/api/outputs", headers) == 401);
    headers["Authorization"] = "Bearer " + token;
    CHECK(f.send(beast_http::verb::get, "/api/outputs", headers) == 200);
    CHECK(f.send(beast_http::verb::get, "/metrics", headers) == 200);
    headers["Origin"] = "http://evil.example";
    CHECK(f.send(beast_http::verb::post, "/api/clear", headers) == 403);
    headers["Origin"] = "http://dashboard.internal:8080";
    CHECK(f.send(beast_http::verb::post, "/api/clear", headers) == 200);
    CHECK(f.send(beast_http::verb::get, "/healthz", {}) == 200);
}

TEST_CASE("token comparison is exact") {
    CHECK(http::constant_time_equal("abc", "abc"));
    CHECK_FALSE(http::constant_time_equal("abc", "abd"));
    CHECK_FALSE(http::constant_time_equal("abc", "abcd"));
    CHECK_FALSE(http::constant_time_equal("", "a"));
}
