// Blocking test HTTP client on Beast; see http_client.hpp.
#include "support/http_client.hpp"

#include <algorithm>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace orderstream::testing {
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;

http_reply http_request(unsigned short port, const std::string& method, const std::string& target,
                        const std::string& body, const std::map<std::string, std::string>& headers,
                        std::chrono::milliseconds deadline) {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(deadline);
    beast::error_code result;
    http_reply reply;

    beast_http::request<beast_http::string_body> req{beast_http::string_to_verb(method), target, 11};
    req.set(beast_http::field::host, "127.0.0.1:" + std::to_string(port));
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buffer;
    beast_http::response_parser<beast_http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);

    stream.async_connect({boost::asio::ip::make_address("127.0.0.1"), port}, [&](beast::error_code ec) {
        if (ec) return void(result = ec);
        beast_http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
            if (ec) return void(result = ec);
            beast_http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
                result = ec;
            });
        });
    });
    io.run();
    if (result) throw beast::system_error(result, method + " " + target);

    auto& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        reply.headers[name] = std::string(field.value());
    }
    reply.body = res.body();
    return reply;
}

}  // namespace orderstream::testing
