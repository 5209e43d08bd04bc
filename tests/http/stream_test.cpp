// The push stream over real sockets: live lines, exact resumption with Last-Event-ID, clears,
// and a stuck client that neither slows the others nor goes unwarned.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <future>
#include <regex>
#include <thread>

#include "http/listener.hpp"
#include "http/stream_hub.hpp"
#include "support/daemon_process.hpp"

using namespace orderstream;
using boost::asio::ip::tcp;

namespace {

struct server {
    boost::asio::io_context io;
    capture::output_store store{{"producer", "email"}, 1000};
    supervision::supervisor supervisor{io, {}, store, {}};
    http::router router{store, supervisor, ""};
    http::stream_hub hub{io, store};
    std::shared_ptr<http::listener> listener;
    std::thread thread;

    server() {
        http::session_limits limits;
        limits.read_timeout = std::chrono::seconds(20);
        listener = std::make_shared<http::listener>(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0),
                                                    router, limits, 64);
        router.set_access_policy(http::access_policy("", http::own_hosts_for("127.0.0.1", port(), {})));
        router.set_stream_hub(&hub);
        store.on_change([this] { hub.changed(); });
        listener->run();
        thread = std::thread([this] { io.run(); });
    }
    ~server() {
        io.stop();
        thread.join();
    }
    unsigned short port() const { return listener->local_endpoint().port(); }

    // Runs `action` on the event loop (the store belongs to it) and waits for it.
    void on_loop(std::function<void()> action) {
        std::promise<void> done;
        boost::asio::post(io, [&] {
            action();
            done.set_value();
        });
        done.get_future().wait();
    }
    void append(std::size_t terminal, const std::string& line) {
        on_loop([&] { store.append(terminal, line); });
    }
};

struct sse_event {
    std::string id, event, data;
};

// A blocking SSE client on a raw socket.
class sse_client {
public:
    sse_client(unsigned short port, const std::string& extra_headers = "", bool read_head = true) : socket_(io_) {
        socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        std::string request = "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" +
                              extra_headers + "\r\n";
        boost::asio::write(socket_, boost::asio::buffer(request));
        if (read_head) head_ = read_until("\r\n\r\n");
    }
    const std::string& head() const { return head_; }

    // The next event (comments and the retry field skipped), or nullopt after `timeout`.
    std::optional<sse_event> next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        while (true) {
            auto block = read_until("\n\n", timeout);
            if (block.empty()) return std::nullopt;
            sse_event event;
            std::istringstream lines(block);
            for (std::string line; std::getline(lines, line);) {
                if (line.rfind("id: ", 0) == 0) event.id = line.substr(4);
                if (line.rfind("event: ", 0) == 0) event.event = line.substr(7);
                if (line.rfind("data: ", 0) == 0) event.data = line.substr(6);
            }
            if (!event.event.empty()) return event;
        }
    }
    // Lines of the next `lines` events until `count` lines of `terminal` arrived.
    std::vector<nlohmann::json> lines(const std::string& terminal, std::size_t count,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::vector<nlohmann::json> out;
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
            auto event = next(std::chrono::milliseconds(500));
            if (!event || event->event != "lines") continue;
            last_id_ = event->id;
            auto data = nlohmann::json::parse(event->data);
            if (!data["missed"].empty()) missed_ = true;
            for (auto& line : data["terminals"][terminal]) out.push_back(line);
        }
        return out;
    }
    const std::string& last_id() const { return last_id_; }
    bool missed() const { return missed_; }

private:
    std::string read_until(const std::string& delimiter, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        socket_.non_blocking(true);
        while (true) {
            auto at = buffer_.find(delimiter);
            if (at != std::string::npos) {
                auto block = buffer_.substr(0, at + delimiter.size());
                buffer_.erase(0, at + delimiter.size());
                return block;
            }
            if (std::chrono::steady_clock::now() >= deadline) return "";
            char chunk[65536];
            boost::system::error_code ec;
            auto n = socket_.read_some(boost::asio::buffer(chunk), ec);
            if (ec == boost::asio::error::would_block) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                continue;
            }
            if (ec) return "";
            buffer_.append(chunk, n);
        }
    }

    boost::asio::io_context io_;
    tcp::socket socket_;
    std::string buffer_, head_, last_id_;
    bool missed_ = false;
};

std::vector<std::string> texts(const std::vector<nlohmann::json>& lines) {
    std::vector<std::string> out;
    for (const auto& line : lines) out.push_back(line["line"]);
    return out;
}

}  // namespace

TEST_CASE("the stream sends the ring, then each new line, with sequence numbers") {
    server s;
    s.append(0, "before");
    sse_client client(s.port());
    CHECK_THAT(client.head(), Catch::StartsWith("HTTP/1.1 200 OK"));
    CHECK_THAT(client.head(), Catch::Contains("text/event-stream"));
    CHECK_THAT(client.head(), Catch::Contains("Content-Security-Policy"));
    CHECK(texts(client.lines("producer", 1)) == std::vector<std::string>{"before"});
    s.append(0, "after one");
    s.append(1, "to email");
    s.append(0, "after two");
    auto lines = client.lines("producer", 2);
    CHECK(texts(lines) == std::vector<std::string>{"after one", "after two"});
    CHECK(lines[0]["seq"] == 2);
    CHECK(lines[1]["seq"] == 4);
    CHECK(client.last_id() == "4");
}

TEST_CASE("a client resuming with Last-Event-ID gets exactly the lines it missed") {
    server s;
    std::string resume_from;
    {
        sse_client first(s.port());
        for (int i = 1; i <= 5; ++i) s.append(0, "line " + std::to_string(i));
        REQUIRE(first.lines("producer", 5).size() == 5);
        resume_from = first.last_id();
    }  // the connection drops
    for (int i = 6; i <= 8; ++i) s.append(0, "line " + std::to_string(i));
    sse_client second(s.port(), "Last-Event-ID: " + resume_from + "\r\n");
    auto lines = second.lines("producer", 3);
    CHECK(texts(lines) == std::vector<std::string>{"line 6", "line 7", "line 8"});  // no gap, no duplicate
    CHECK_FALSE(second.next(std::chrono::milliseconds(300)).has_value());
    CHECK(sse_client(s.port(), "Last-Event-ID: nonsense\r\n").head().rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("clears and process changes are pushed as events") {
    server s;
    s.append(1, "to clear");
    sse_client client(s.port());
    REQUIRE(client.lines("email", 1).size() == 1);
    s.on_loop([&] { s.store.clear(1); });
    auto event = client.next();
    REQUIRE(event);
    CHECK(event->event == "clear");
    CHECK(nlohmann::json::parse(event->data)["terminal"] == "email");
    s.on_loop([&] { s.hub.set_processes(R"([{"name":"x","state":"RUNNING"}])"); });
    event = client.next();
    REQUIRE(event);
    CHECK(event->event == "processes");
    CHECK(nlohmann::json::parse(event->data)[0]["state"] == "RUNNING");
}

TEST_CASE("a stuck client does not hold up another, and learns it fell behind") {
    server s;
    sse_client stuck(s.port());  // reads its head, then nothing for a while
    sse_client live(s.port());
    std::string big(1000, 'x');
    // Far more than the socket buffers and the 1000-line ring hold.
    for (int round = 0; round < 20; ++round) {
        s.on_loop([&] {
            for (int i = 0; i < 500; ++i) s.store.append(0, big);
        });
        s.append(1, "marker " + std::to_string(round));
        auto seen = live.lines("email", 1, std::chrono::seconds(5));
        REQUIRE(seen.size() == 1);
        CHECK(seen[0]["line"] == "marker " + std::to_string(round));
    }
    // Now it reads: it gets what the ring still has, told that it missed lines.
    s.append(1, "final");
    auto lines = stuck.lines("email", 20, std::chrono::seconds(10));
    CHECK(stuck.missed());
    CHECK_FALSE(lines.empty());
    CHECK(lines.back()["line"] == "final");
}

TEST_CASE("clients at the same place share one lines event per variant, and each gets every line once") {
    server s;
    std::vector<std::unique_ptr<sse_client>> clients;
    for (int i = 0; i < 6; ++i) clients.push_back(std::make_unique<sse_client>(s.port(), "", true));
    // Wait until all are attached, so that each batch finds them all at the same place.
    REQUIRE(orderstream::testing::wait_until([&] {
        std::size_t attached = 0;
        s.on_loop([&] { attached = s.hub.clients(); });
        return attached == clients.size();
    }, std::chrono::seconds(5)));
    std::uint64_t built_before = 0;
    s.on_loop([&] { built_before = s.hub.frames_built(); });
    constexpr int batches = 5;
    for (int batch = 0; batch < batches; ++batch) {
        s.append(0, "line " + std::to_string(batch));
        for (auto& client : clients) REQUIRE(client->lines("producer", 1).size() == 1);
    }
    std::uint64_t built = 0;
    s.on_loop([&] { built = s.hub.frames_built() - built_before; });
    // One per batch for all six clients (they all use the same variant).
    CHECK(built == static_cast<std::uint64_t>(batches));
}
