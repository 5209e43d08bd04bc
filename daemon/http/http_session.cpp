// One HTTP connection; see http_session.hpp.
#include "http/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "log/logger.hpp"

namespace orderstream::http {
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;

http_session::http_session(boost::asio::ip::tcp::socket&& socket, router& router,
                           session_limits limits, std::shared_ptr<void> slot)
    : stream_(std::move(socket)), router_(router), limits_(limits), slot_(std::move(slot)) {}

void http_session::run() {
    boost::asio::dispatch(stream_.get_executor(),
                          beast::bind_front_handler(&http_session::do_read, shared_from_this()));
}

void http_session::reject_busy() {
    send_error(beast_http::status::service_unavailable, "too many connections; try again later");
}

void http_session::do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(limits_.max_body_bytes);
    // One deadline for the whole request, so a client trickling bytes (slowloris) is cut off too.
    stream_.expires_after(limits_.read_timeout);
    beast_http::async_read(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
    if (ec == beast_http::error::end_of_stream || ec == boost::asio::error::operation_aborted ||
        ec == boost::asio::error::connection_reset)
        return do_close();
    if (ec == beast::error::timeout) return do_close();
    if (ec == beast_http::error::header_limit)
        return send_error(beast_http::status::request_header_fields_too_large,
                          "request headers are larger than http.max_header_bytes");
    if (ec == beast_http::error::body_limit)
        return send_error(beast_http::status::payload_too_large,
                          "request body is larger than http.max_body_bytes");
    if (ec)
        return send_error(beast_http::status::bad_request, "malformed HTTP request: " + ec.message());
    send(router_.handle(parser_->get()));
}

void http_session::send_error(beast_http::status status, std::string_view message) {
    router_.record(static_cast<unsigned>(status));
    send(error_response(status, message));
}

void http_session::send(response res) {
    pending_ = std::make_shared<response>(std::move(res));
    bool close = pending_->need_eof();
    stream_.expires_after(limits_.read_timeout);  // a client that never reads is cut off too
    beast_http::async_write(stream_, *pending_,
                            beast::bind_front_handler(&http_session::on_write, shared_from_this(), close));
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
    pending_.reset();
    if (ec) {
        if (ec != boost::asio::error::operation_aborted && ec != beast::error::timeout)
            log::get("http")->debug("write failed: {}", ec.message());
        return do_close();
    }
    if (close) return do_close();
    do_read();
}

void http_session::do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    stream_.close();
}

}  // namespace orderstream::http
