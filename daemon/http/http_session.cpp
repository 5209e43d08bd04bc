// One HTTP connection; see http_session.hpp.
#include "http/http_session.hpp"

#include <array>
#include <charconv>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/request_target.hpp"
#include "http/sse_session.hpp"
#include "log/logger.hpp"

namespace orderstream::http {
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;

namespace {

// A response's status line and fields as they go on the wire (what beast's serializer writes),
// for the responses whose body is written apart from them (the stream, shared bodies).
void head_text(const response& head, std::string& out) {
    out.assign(head.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    out += std::to_string(head.result_int());
    out += ' ';
    const auto reason = head.reason();
    out.append(reason.data(), reason.size());
    out += "\r\n";
    for (const auto& field : head) {
        out.append(field.name_string().data(), field.name_string().size());
        out += ": ";
        out.append(field.value().data(), field.value().size());
        out += "\r\n";
    }
    out += "\r\n";
}

}  // namespace

http_session::http_session(boost::asio::ip::tcp::socket&& socket, router& router,
                           session_limits limits, std::shared_ptr<connection_table> table,
                           connection_table::handle slot)
    : stream_(std::move(socket)), router_(router), limits_(limits), table_(std::move(table)), slot_(std::move(slot)) {}

void http_session::register_close() {
    // Weak: the table must not keep the session alive.
    slot_->close = [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->stream_.close();
    };
}

void http_session::run() {
    register_close();
    boost::asio::dispatch(stream_.get_executor(),
                          beast::bind_front_handler(&http_session::do_read, shared_from_this()));
}

void http_session::reject_busy() {
    slot_->now = connection_table::state::busy;
    send_error(beast_http::status::service_unavailable, "too many connections; try again later");
}

void http_session::do_read() {
    slot_->now = connection_table::state::waiting;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(limits_.max_body_bytes);
    // One deadline for the whole header, so a client trickling bytes (slowloris) is cut off too.
    stream_.expires_after(limits_.header_timeout);
    beast_http::async_read_header(stream_, buffer_, *parser_,
                                  beast::bind_front_handler(&http_session::on_header, shared_from_this()));
}

void http_session::on_header(beast::error_code ec, std::size_t bytes) {
    if (ec) return on_read(ec, bytes);
    // Evicted while this header was on its way: the request is not acted on.
    if (slot_->now == connection_table::state::closing) return do_close();
    slot_->now = connection_table::state::busy;
    if (parser_->is_done()) return on_read(ec, bytes);
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
    auto& req = parser_->get();
    if (req.method() == beast_http::verb::get && router_.hub() && is_stream_request(req)) return start_stream(req);
    if (auto shared = router_.handle_shared(req, client_address())) return send_shared(std::move(*shared));
    // An operator action answers when it is done; nothing is read from the client meanwhile.
    if (router_.handle_async(req, client_address(), [self = shared_from_this()](response res) { self->send(std::move(res)); }))
        return;
    send(router_.handle(req, client_address()));
}

std::string http_session::client_address() {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (ec) return "unknown";
    const auto address = peer.address();
    return (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" + std::to_string(peer.port());
}

bool http_session::is_stream_request(const request& req) {
    auto target = req.target();
    return target == "/api/stream" || target.starts_with("/api/stream?");
}

// Hands the connection over to an sse_session, which owns it from now on.
void http_session::start_stream(const request& req) {
    if (auto refusal = router_.check_access(req)) {
        router_.record(refusal->result_int());
        return send(std::move(*refusal));
    }
    // The rest of the cap stays for /healthz, /readyz and the control API.
    if (table_->streaming() >= limits_.max_streams)
        return send_error(beast_http::status::service_unavailable, "too many stream clients; try again later");
    auto target = request_target::parse(std::string_view(req.target().data(), req.target().size()));
    std::string since_text;
    if (auto last_event_id = req.find("Last-Event-ID"); last_event_id != req.end())
        since_text = std::string(last_event_id->value());
    else if (auto since = target ? target->param("since") : std::nullopt)
        since_text = *since;
    std::uint64_t since = 0;
    if (!since_text.empty()) {
        auto [end, error] = std::from_chars(since_text.data(), since_text.data() + since_text.size(), since);
        if (error != std::errc() || end != since_text.data() + since_text.size())
            return send_error(beast_http::status::bad_request, "Last-Event-ID and since must be sequence numbers");
    }
    auto strip = target ? target->param("strip_ansi") : std::nullopt;
    bool plain = strip && *strip != "0" && *strip != "false";

    response head{beast_http::status::ok, 11};
    add_security_headers(head);
    head.set(beast_http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(beast_http::field::cache_control, "no-store");
    head.set("X-Accel-Buffering", "no");  // reverse proxies: do not buffer the stream
    std::string text;
    head_text(head, text);
    router_.record(200);
    slot_->now = connection_table::state::streaming;
    slot_->close = nullptr;
    stream_.expires_never();
    std::make_shared<sse_session>(std::move(stream_), *router_.hub(), since, plain, std::move(text),
                                  limits_.read_timeout, std::move(slot_))
        ->start();
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

void http_session::send_shared(shared_response reply) {
    // The head as text, then the shared body as it is.
    auto& head = reply.head;
    head_text(head, shared_head_);
    shared_keep_ = std::move(reply.keep);
    const std::array<boost::asio::const_buffer, 2> buffers{boost::asio::buffer(shared_head_),
                                                           boost::asio::buffer(reply.body.data(), reply.body.size())};
    stream_.expires_after(limits_.read_timeout);  // a client that never reads is cut off too
    boost::asio::async_write(stream_, buffers,
                             beast::bind_front_handler(&http_session::on_write, shared_from_this(), !head.keep_alive()));
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
    pending_.reset();
    shared_keep_.reset();
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
