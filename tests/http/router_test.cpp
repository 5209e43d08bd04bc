// The API's shapes and errors, and that no path reaches outside the web assets.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "http/router.hpp"

using namespace orderstream;
namespace beast_http = boost::beast::http;

namespace {

config::process_config sleeper() {
    config::process_config process;
    process.name = "sleeper";
    process.terminal = "producer";
    process.command = "sleep";
    process.args = {"30"};
    return process;
}

struct fixture {
    boost::asio::io_context io;
    capture::output_store store{{"producer", "shipping", "email", "analytics"}, 1000};
    supervision::supervisor supervisor{io, {sleeper()}, store, {}};
    http::router router{store, supervisor, ""};

    fixture() { router.set_access_policy(http::access_policy("", http::own_hosts_for("127.0.0.1", 8080, {}))); }

    http::response request(beast_http::verb method, const std::string& target) {
        http::request req{method, target, 11};
        req.set(beast_http::field::host, "127.0.0.1:8080");
        return router.handle(req);
    }
    http::response get(const std::string& target) { return request(beast_http::verb::get, target); }
    http::response post(const std::string& target) { return request(beast_http::verb::post, target); }
    nlohmann::json get_json(const std::string& target) { return nlohmann::json::parse(get(target).body()); }
};

bool is_json_error(const http::response& res) {
    auto body = nlohmann::json::parse(res.body(), nullptr, false);
    return res[beast_http::field::content_type] == "application/json" && body.is_object() &&
           body.contains("error") && body["error"].is_string();
}

}  // namespace

TEST_CASE("GET /api/outputs has the reference shape, one key per terminal") {
    fixture f;
    f.store.append(0, "Order #1001 from alice_smith");
    f.store.append(1, "quote \" backslash \\ tab \t <b>html</b>");
    auto body = f.get_json("/api/outputs");
    REQUIRE(body.is_object());
    CHECK(body.size() == 4);
    for (const char* name : {"producer", "shipping", "email", "analytics"}) CHECK(body[name].is_array());
    REQUIRE(body["producer"].size() == 1);
    auto line = body["producer"][0];
    CHECK(line.size() == 2);  // exactly timestamp and line
    CHECK(line["line"] == "Order #1001 from alice_smith");
    CHECK(line["timestamp"].get<std::string>().size() == 8);
    CHECK(body["shipping"][0]["line"] == "quote \" backslash \\ tab \t <b>html</b>");
    CHECK(body["email"].empty());
}

TEST_CASE("GET /api/outputs?since=SEQ returns only newer lines with their sequence numbers") {
    fixture f;
    f.store.append(0, "one");
    f.store.append(1, "two");
    f.store.append(0, "three");
    auto body = f.get_json("/api/outputs?since=1");
    CHECK(body["seq"] == 3);
    CHECK(body["terminals"]["producer"].size() == 1);
    CHECK(body["terminals"]["producer"][0]["line"] == "three");
    CHECK(body["terminals"]["producer"][0]["seq"] == 3);
    CHECK(body["terminals"]["shipping"][0]["seq"] == 2);
    CHECK(body["dropped"]["producer"] == 0);
    CHECK(f.get("/api/outputs?since=abc").result() == beast_http::status::bad_request);
    CHECK(f.get("/api/outputs?since=").result() == beast_http::status::bad_request);

    // Which daemon run numbered these lines: the same for every answer, another for another run.
    auto instance = body["instance"].get<std::string>();
    CHECK(instance.size() == 16);
    CHECK(f.get_json("/api/outputs?since=3")["instance"] == instance);
    fixture restarted;
    CHECK(restarted.get_json("/api/outputs?since=0")["instance"] != instance);
}

TEST_CASE("strip_ansi removes colour codes from the JSON") {
    fixture f;
    f.store.append(0, "\x1b[32mgreen\x1b[0m plain");
    CHECK(f.get_json("/api/outputs")["producer"][0]["line"] == "\x1b[32mgreen\x1b[0m plain");
    CHECK(f.get_json("/api/outputs?strip_ansi=1")["producer"][0]["line"] == "green plain");
}

TEST_CASE("repeated GET /api/outputs sees every new line and every clear") {
    fixture f;
    f.store.append(0, "first");
    CHECK(f.get_json("/api/outputs")["producer"].size() == 1);
    CHECK(f.get_json("/api/outputs")["producer"].size() == 1);
    f.store.append(0, "second");
    CHECK(f.get_json("/api/outputs")["producer"][1]["line"] == "second");
    f.store.clear(0);
    CHECK(f.get_json("/api/outputs")["producer"].empty());
    f.store.append(2, "\x1b[1mbold\x1b[0m");
    CHECK(f.get_json("/api/outputs?strip_ansi=1")["email"][0]["line"] == "bold");
    CHECK(f.get_json("/api/outputs")["email"][0]["line"] == "\x1b[1mbold\x1b[0m");
}

TEST_CASE("POST /api/clear empties every terminal, /api/clear/{terminal} just one") {
    fixture f;
    for (std::size_t i = 0; i < 4; ++i) f.store.append(i, "line");
    auto res = f.post("/api/clear/email");
    CHECK(res.result() == beast_http::status::ok);
    auto body = f.get_json("/api/outputs");
    CHECK(body["email"].empty());
    CHECK(body["producer"].size() == 1);

    CHECK(f.post("/api/clear").result() == beast_http::status::ok);
    body = f.get_json("/api/outputs");
    for (const char* name : {"producer", "shipping", "email", "analytics"}) CHECK(body[name].empty());
}

TEST_CASE("errors are JSON: unknown terminal 404, wrong method 405, unknown path 404") {
    fixture f;
    auto unknown_terminal = f.post("/api/clear/nope");
    CHECK(unknown_terminal.result() == beast_http::status::not_found);
    CHECK(is_json_error(unknown_terminal));

    auto wrong_method = f.get("/api/clear");
    CHECK(wrong_method.result() == beast_http::status::method_not_allowed);
    CHECK(wrong_method[beast_http::field::allow] == "POST");
    CHECK(is_json_error(wrong_method));
    CHECK(f.post("/api/outputs").result() == beast_http::status::method_not_allowed);
    CHECK(f.request(beast_http::verb::delete_, "/api/clear/email").result() == beast_http::status::method_not_allowed);

    auto unknown = f.get("/api/nothing");
    CHECK(unknown.result() == beast_http::status::not_found);
    CHECK(is_json_error(unknown));
    // The API's root itself (once read past the end of the path's segments).
    for (const char* root : {"/api", "/api/", "/api//"}) {
        CAPTURE(root);
        CHECK(f.get(root).result() == beast_http::status::not_found);
        CHECK(f.post(root).result() == beast_http::status::not_found);
    }
    auto unknown_page = f.get("/nothing.html");
    CHECK(unknown_page.result() == beast_http::status::not_found);
    CHECK(is_json_error(unknown_page));
}

TEST_CASE("two Host headers get 400 and a transfer coding other than chunked gets 501, before acting") {
    fixture f;
    http::request twice{beast_http::verb::get, "/api/processes", 11};
    twice.insert(beast_http::field::host, "127.0.0.1:8080");
    twice.insert(beast_http::field::host, "evil.example:8080");
    auto res = f.router.handle(twice);
    CHECK(res.result() == beast_http::status::bad_request);
    CHECK(is_json_error(res));

    f.store.append(0, "a line");
    http::request gzip{beast_http::verb::post, "/api/clear", 11};
    gzip.set(beast_http::field::host, "127.0.0.1:8080");
    gzip.set(beast_http::field::transfer_encoding, "gzip, chunked");
    res = f.router.handle(gzip);
    CHECK(res.result() == beast_http::status::not_implemented);
    CHECK(f.get_json("/api/outputs")["producer"].size() == 1);  // not cleared
}

TEST_CASE("GET / serves the monitor page with security headers") {
    fixture f;
    auto res = f.get("/");
    CHECK(res.result() == beast_http::status::ok);
    CHECK(res[beast_http::field::content_type] == "text/html; charset=utf-8");
    CHECK(res.body().find("/app.js") != std::string::npos);
    CHECK(std::string(res["Content-Security-Policy"]).find("frame-ancestors 'none'") != std::string::npos);
    CHECK(res["X-Content-Type-Options"] == "nosniff");
    CHECK(res["Referrer-Policy"] == "no-referrer");
    CHECK(f.get("/app.js").result() == beast_http::status::ok);
    CHECK(f.get("/app.js")[beast_http::field::content_type] == "text/javascript; charset=utf-8");
    CHECK(f.get("/style.css").result() == beast_http::status::ok);
}

TEST_CASE("path traversal never escapes the web assets") {
    fixture f;
    for (const char* target :
         {"/../etc/passwd", "/..%2fetc%2fpasswd", "/%2e%2e/etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
          "/%252e%252e/etc/passwd", "/..\\..\\etc\\passwd", "/%5c..%5cetc%5cpasswd", "//etc/passwd",
          "/etc/passwd", "/./index.html/../../etc/passwd", "/index.html%00.js", "/%00",
          "/static/../../CMakeLists.txt", "/....//....//etc/passwd", "/..;/etc/passwd",
          "/%c0%ae%c0%ae/etc/passwd", "/.%2e/etc/passwd", "/%2e./etc/passwd",
          "/../../../../../../../../proc/self/environ", "/%2fetc%2fpasswd", "/\\etc\\passwd",
          "/web/static/index.html", "/..", "/."}) {
        INFO(target);
        auto res = f.get(target);
        CHECK(res.result() != beast_http::status::ok);
        CHECK(res.body().find("root:") == std::string::npos);
    }
    for (const char* absolute : {"http://evil/etc/passwd", "etc/passwd", "*"}) {
        INFO(absolute);
        CHECK(f.get(absolute).result() == beast_http::status::bad_request);
    }
}

TEST_CASE("GET /api/processes lists each child with state, pid, uptime, restarts and last exit") {
    fixture f;
    auto list = f.get_json("/api/processes");
    REQUIRE(list.size() == 1);
    CHECK(list[0]["name"] == "sleeper");
    CHECK(list[0]["terminal"] == "producer");
    CHECK(list[0]["state"] == "STOPPED");
    CHECK(list[0]["pid"].is_null());
    CHECK(list[0]["uptime_seconds"].is_null());
    CHECK(list[0]["restarts"] == 0);
    CHECK(list[0]["last_exit"].is_null());

    CHECK(f.post("/api/processes/sleeper/start").result() == beast_http::status::ok);
    list = f.get_json("/api/processes");
    CHECK(list[0]["state"] == "STARTING");
    CHECK(list[0]["pid"].is_number());
    CHECK(f.post("/api/processes/ghost/start").result() == beast_http::status::not_found);
    CHECK(f.post("/api/processes/sleeper/explode").result() == beast_http::status::not_found);
    CHECK(f.get("/api/processes/sleeper/stop").result() == beast_http::status::method_not_allowed);
    f.post("/api/processes/sleeper/stop");
    f.io.run_for(std::chrono::seconds(5));
    CHECK(f.get_json("/api/processes")[0]["state"] == "STOPPED");
}
