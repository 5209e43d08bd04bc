// The HTTP server over real sockets: keep-alive, size limits, slow clients, the connection cap.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <regex>
#include <thread>

#include "http/listener.hpp"
#include "support/daemon_process.hpp"

using namespace orderstream;
using boost::asio::ip::tcp;

namespace {

// A server on 127.0.0.1:0 with its event loop on a thread of its own.
struct server {
    boost::asio::io_context io;
    capture::output_store store{{"producer"}, 1000};
    supervision::supervisor supervisor{io, {}, store, {}};
    http::router router{store, supervisor, ""};
    std::shared_ptr<http::listener> listener;
    std::thread thread;

    explicit server(http::session_limits limits = {}, std::size_t max_connections = 64) {
        listener = std::make_shared<http::listener>(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0),
                                                    router, limits, max_connections);
        router.set_access_policy(http::access_policy("", http::own_hosts_for("127.0.0.1", port(), {"x"})));
        listener->run();
        store.append(0, "hello");
        thread = std::thread([this] { io.run(); });
    }
    ~server() {
        io.stop();
        thread.join();
    }
    unsigned short port() const { return listener->local_endpoint().port(); }
};

// A client socket connected to the server under test.
tcp::socket connect_to(boost::asio::io_context& io, unsigned short port) {
    tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    return socket;
}

// Sends raw bytes and reads until the server closes or `limit` passes.
std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    boost::asio::io_context io;
    auto socket = connect_to(io, port);
    boost::asio::write(socket, boost::asio::buffer(bytes));
    std::string reply;
    std::array<char, 4096> buffer;
    auto deadline = std::chrono::steady_clock::now() + limit;
    socket.non_blocking(true);
    while (std::chrono::steady_clock::now() < deadline) {
        boost::system::error_code ec;
        std::size_t n = socket.read_some(boost::asio::buffer(buffer), ec);
        if (ec == boost::asio::error::would_block) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        if (ec) break;
        reply.append(buffer.data(), n);
    }
    return reply;
}

}  // namespace

TEST_CASE("several requests on one keep-alive connection") {
    server s;
    std::string request = "GET /api/outputs HTTP/1.1\r\nHost: x\r\n\r\n";
    auto reply = raw_exchange(s.port(), request + request + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::size_t count = 0, at = 0;
    while ((at = reply.find("HTTP/1.1 200 OK", at)) != std::string::npos) ++count, ++at;
    CHECK(count == 3);
}

TEST_CASE("oversized headers get 431 and oversized bodies 413, as JSON") {
    http::session_limits limits;
    limits.max_header_bytes = 1024;
    limits.max_body_bytes = 100;
    server s(limits);
    auto big_header = testing::http_request(s.port(), "GET", "/api/outputs", "", {{"X-Filler", std::string(4000, 'a')}});
    CHECK(big_header.status == 431);
    CHECK(big_header.json().contains("error"));
    auto big_body = testing::http_request(s.port(), "POST", "/api/clear", std::string(1000, 'b'));
    CHECK(big_body.status == 413);
    CHECK(big_body.json().contains("error"));
    CHECK(testing::http_get(s.port(), "/api/outputs").status == 200);  // still serving
}

TEST_CASE("malformed requests get 400") {
    server s;
    auto reply = raw_exchange(s.port(), "THIS IS NOT HTTP\r\n\r\n");
    CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("a slow client is cut off and does not delay others") {
    http::session_limits limits;
    limits.header_timeout = std::chrono::milliseconds(500);
    server s(limits);
    boost::asio::io_context io;
    auto slow = connect_to(io, s.port());
    boost::asio::write(slow, boost::asio::buffer(std::string("GET /api/outputs HTTP/1.1\r\nHo")));
    // A legitimate request meanwhile is answered.
    CHECK(testing::http_get(s.port(), "/api/outputs").status == 200);
    // The slow one is closed once its deadline passes.
    std::array<char, 64> buffer;
    boost::system::error_code ec;
    slow.read_some(boost::asio::buffer(buffer), ec);
    CHECK(ec == boost::asio::error::eof);
}

TEST_CASE("a header trickled byte by byte is cut off at its deadline from accept") {
    http::session_limits limits;
    limits.header_timeout = std::chrono::milliseconds(600);
    server s(limits);
    boost::asio::io_context io;
    auto slow = connect_to(io, s.port());
    const auto opened = std::chrono::steady_clock::now();
    const std::string header = "GET /api/outputs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa";
    boost::system::error_code ec;
    for (char c : header) {  // one byte every 100 ms: never idle for long, yet never done
        boost::asio::write(slow, boost::asio::buffer(&c, 1), ec);
        if (ec) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::array<char, 64> buffer;
        slow.non_blocking(true);
        slow.read_some(boost::asio::buffer(buffer), ec);
        slow.non_blocking(false);
        if (ec && ec != boost::asio::error::would_block) break;
        ec = {};
    }
    const auto lasted = std::chrono::steady_clock::now() - opened;
    CHECK(ec);  // closed before the header was done
    CHECK(lasted < std::chrono::milliseconds(2000));
}

TEST_CASE("at the cap the oldest connection without a whole header makes room; busy ones never do") {
    server s({}, 2);
    boost::asio::io_context io;
    auto a = connect_to(io, s.port());
    auto b = connect_to(io, s.port());
    REQUIRE(testing::wait_until([&] { return s.listener->open_connections() == 2; }, std::chrono::seconds(5)));
    // Both idle: the newcomer is served and the oldest idle one closed.
    CHECK(testing::http_get(s.port(), "/api/outputs").status == 200);
    std::array<char, 64> buffer;
    boost::system::error_code ec;
    a.read_some(boost::asio::buffer(buffer), ec);
    CHECK(ec == boost::asio::error::eof);
    a.close();
    b.close();
    REQUIRE(testing::wait_until([&] { return s.listener->open_connections() == 0; }, std::chrono::seconds(5)));

    // Two requests whose bodies are still coming are busy, not idle: the newcomer gets 503.
    auto c = connect_to(io, s.port()), d = connect_to(io, s.port());
    for (auto* socket : {&c, &d}) {
        boost::asio::write(*socket, boost::asio::buffer(std::string(
            "POST /api/clear HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\nab")));
    }
    REQUIRE(testing::wait_until([&] { return s.listener->open_connections() == 2; }, std::chrono::seconds(5)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let both headers be parsed
    auto reply = testing::http_get(s.port(), "/api/outputs");
    CHECK(reply.status == 503);
    CHECK(reply.json().contains("error"));
}

TEST_CASE("the whole rings and the page's files are served from shared bodies, the same bytes as before") {
    server s;
    // The same answer as the router's own (copying) one, on a keep-alive connection.
    http::request req{boost::beast::http::verb::get, "/api/outputs", 11};
    req.set(boost::beast::http::field::host, "x");
    const auto expected = s.router.handle(req).body();
    const std::string get = "GET /api/outputs HTTP/1.1\r\nHost: x\r\n\r\n";
    auto reply = raw_exchange(s.port(), get + "HEAD /api/outputs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto first = reply.find("\r\n\r\n");
    REQUIRE(first != std::string::npos);
    CHECK(reply.substr(0, first).find("Content-Length: " + std::to_string(expected.size())) != std::string::npos);
    CHECK(reply.compare(first + 4, expected.size(), expected) == 0);
    // HEAD: the same length, no body.
    const auto head = reply.substr(first + 4 + expected.size());
    CHECK(head.rfind("HTTP/1.1 200 OK", 0) == 0);
    CHECK(head.find("Content-Length: " + std::to_string(expected.size())) != std::string::npos);
    CHECK(head.size() == head.find("\r\n\r\n") + 4);
    // The Host check still applies.
    CHECK(raw_exchange(s.port(), "GET /api/outputs HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
              .rfind("HTTP/1.1 403", 0) == 0);

    // A page file has an ETag; asking with it gets 304 and no body.
    auto page = raw_exchange(s.port(), "GET /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    REQUIRE(page.rfind("HTTP/1.1 200 OK", 0) == 0);
    std::smatch etag;
    REQUIRE(std::regex_search(page, etag, std::regex("ETag: (\"[0-9a-f]{16}\")")));
    CHECK(page.find("text/javascript") != std::string::npos);
    auto again = raw_exchange(s.port(), "GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag[1].str() +
                                            "\r\nConnection: close\r\n\r\n");
    CHECK(again.rfind("HTTP/1.1 304 Not Modified", 0) == 0);
    CHECK(again.size() == again.find("\r\n\r\n") + 4);
}
