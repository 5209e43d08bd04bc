// libFuzzer target: raw bytes through Beast's request parser (with the daemon's limits) and, when
// they parse, through the router (the shared-body path first, as the session does). No input may
// crash, and every answer must be well formed.
#include <cstdlib>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/parser.hpp>

#include "http/router.hpp"

namespace {

struct world {
    boost::asio::io_context io;
    orderstream::capture::output_store store{{"producer", "shipping"}, 16};
    orderstream::supervision::supervisor supervisor{io, {}, store, {}};
    orderstream::http::router router{store, supervisor, ""};
    world() {
        store.append(0, "Order #1001 from alice_smith");
        store.append(1, "\x1b[32mgreen\x1b[0m");
        router.set_access_policy(orderstream::http::access_policy("", orderstream::http::own_hosts_for("127.0.0.1", 8080, {})));
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static world w;
    namespace beast_http = boost::beast::http;
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(8 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (ec || !parser.is_done()) return 0;
    if (auto shared = w.router.handle_shared(parser.get())) {
        const auto status = shared->head.result();
        if (status != beast_http::status::ok && status != beast_http::status::not_modified) std::abort();
        // Content-Length is the body's, whatever its coding (a HEAD's is the GET's, with no body).
        if (status == beast_http::status::ok && parser.get().method() != beast_http::verb::head &&
            shared->head[beast_http::field::content_length] != std::to_string(shared->body.size()))
            std::abort();
        return 0;
    }
    auto res = w.router.handle(parser.get());
    if (res.result_int() < 200 || res.result_int() > 599) std::abort();
    // Every error is JSON with an "error" string (HEAD answers carry no body).
    if (res.result_int() >= 400 && parser.get().method() != beast_http::verb::head &&
        res.body().rfind("{\"error\":", 0) != 0)
        std::abort();
    return 0;
}
