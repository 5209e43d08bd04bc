// One HTTP/1.1 connection: read a request (bounded in size and time), answer it through the
// router, repeat while keep-alive; one write in flight at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include "http/router.hpp"

namespace orderstream::http {

struct session_limits {
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 64 * 1024;
    std::chrono::milliseconds read_timeout{30000};
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
    // `slot` is held for the session's life; the listener counts connections by it.
    http_session(boost::asio::ip::tcp::socket&& socket, router& router, session_limits limits,
                 std::shared_ptr<void> slot);
    void run();
    // Answers 503 and closes: the listener is at its connection cap.
    void reject_busy();

private:
    void do_read();
    static bool is_stream_request(const request& req);
    void start_stream(const request& req);
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void send(response res);
    void send_error(boost::beast::http::status status, std::string_view message);
    void on_write(bool close, boost::beast::error_code ec, std::size_t bytes);
    void do_close();

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    router& router_;
    session_limits limits_;
    std::shared_ptr<void> slot_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::shared_ptr<response> pending_;
};

}  // namespace orderstream::http
