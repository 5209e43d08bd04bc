// One HTTP/1.1 connection: read a request (bounded in size and time), answer it through the
// router, repeat while keep-alive; one write in flight at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include "http/connection_table.hpp"
#include "http/router.hpp"

namespace orderstream::http {

struct session_limits {
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 64 * 1024;
    // A request header must arrive whole this long after the connection opened (or after the
    // previous response): one deadline, not reset by each byte.
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::milliseconds read_timeout{30000};  // the body, and taking the response
    std::size_t max_streams = 230;  // stream clients; the rest of the cap is kept for requests
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
    // `slot` is the connection's entry in `table`, held for the session's life.
    http_session(boost::asio::ip::tcp::socket&& socket, router& router, session_limits limits,
                 std::shared_ptr<connection_table> table, connection_table::handle slot);
    void run();
    // Answers 503 and closes: the listener is at its connection cap.
    void reject_busy();

private:
    // Lets the listener close this connection (when evicted at the connection cap).
    void register_close();
    void do_read();
    void on_header(boost::beast::error_code ec, std::size_t bytes);
    std::string client_address();
    static bool is_stream_request(const request& req);
    void start_stream(const request& req);
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void send(response res);
    void send_shared(shared_response reply);
    void send_error(boost::beast::http::status status, std::string_view message);
    void on_write(bool close, boost::beast::error_code ec, std::size_t bytes);
    void do_close();

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    router& router_;
    session_limits limits_;
    std::shared_ptr<connection_table> table_;
    connection_table::handle slot_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::shared_ptr<response> pending_;
    std::string shared_head_;            // the head of a shared response in flight
    std::shared_ptr<const void> shared_keep_;  // and what keeps its body
};

}  // namespace orderstream::http
