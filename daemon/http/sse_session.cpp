// One Server-Sent Events client; see sse_session.hpp.
#include "http/sse_session.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "http/outputs_json.hpp"
#include "http/json_writer.hpp"

namespace orderstream::http {
namespace beast = boost::beast;

namespace {
constexpr auto ping_interval = std::chrono::seconds(15);
}

sse_session::sse_session(beast::tcp_stream&& stream, stream_hub& hub, std::uint64_t since, bool strip_ansi,
                         std::string response_head, std::chrono::milliseconds write_timeout,
                         std::shared_ptr<void> connection_slot)
    : stream_(std::move(stream)),
      hub_(hub),
      last_seq_(since),
      strip_ansi_(strip_ansi),
      out_(std::move(response_head)),
      write_timeout_(write_timeout),
      ping_timer_(stream_.get_executor()),
      slot_(std::move(connection_slot)) {
    // A new client starts from the rings as they are; clears before it came are not news.
    for (const auto& t : hub_.store().terminals()) clears_seen_.push_back(t.clears);
}

sse_session::~sse_session() = default;

void sse_session::start() {
    hub_.attach(shared_from_this());
    out_ += "retry: 1000\n\n";
    writing_ = true;
    stream_.expires_after(write_timeout_);
    boost::asio::async_write(stream_, boost::asio::buffer(out_),
                             beast::bind_front_handler(&sse_session::on_write, shared_from_this()));
    do_ping();
}

void sse_session::wake() {
    if (!writing_ && !closed_) do_write();
}

void sse_session::do_write() {
    out_.clear();
    const auto& store = hub_.store();
    const auto& terminals = store.terminals();
    clears_seen_.resize(terminals.size(), 0);  // terminals added by a reload
    for (std::size_t i = 0; i < terminals.size(); ++i) {
        if (terminals[i].clears == clears_seen_[i]) continue;
        clears_seen_[i] = terminals[i].clears;
        out_ += "event: clear\ndata: {\"terminal\":";
        append_json_string(out_, terminals[i].name);
        out_ += "}\n\n";
        hub_.count_event();
    }
    // Shared with the other clients: held here until written, never copied.
    frames_.clear();
    if (hub_.processes_version() != processes_seen_ && hub_.processes_frame()) {
        processes_seen_ = hub_.processes_version();
        frames_.push_back(hub_.processes_frame());
        hub_.count_event();
    }
    if (hub_.metrics_version() != metrics_seen_ && hub_.metrics_frame()) {
        metrics_seen_ = hub_.metrics_version();
        frames_.push_back(hub_.metrics_frame());
        hub_.count_event();
    }
    if (store.last_seq() > last_seq_) {
        frames_.push_back(hub_.lines_frame(last_seq_, strip_ansi_));
        last_seq_ = store.last_seq();
        hub_.count_event();
    }
    if (out_.empty() && frames_.empty()) return;
    buffers_.clear();
    if (!out_.empty()) buffers_.emplace_back(out_.data(), out_.size());
    for (const auto& frame : frames_) buffers_.emplace_back(frame->data(), frame->size());
    writing_ = true;
    // A client that stops reading is dropped after the timeout instead of holding a batch forever.
    stream_.expires_after(write_timeout_);
    boost::asio::async_write(stream_, buffers_, beast::bind_front_handler(&sse_session::on_write, shared_from_this()));
}

void sse_session::on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    frames_.clear();
    if (ec) return close();
    // A resync (a whole ring) is large and rare: give its memory back rather than keep it per client.
    if (out_.capacity() > 64 * 1024) std::string().swap(out_);
    do_write();  // whatever arrived meanwhile
}

void sse_session::do_ping() {
    ping_timer_.expires_after(ping_interval);
    ping_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->closed_) return;
        if (!self->writing_) {
            // A comment line: keeps proxies from timing out and finds clients that went away.
            self->out_ = ": ping\n\n";
            self->writing_ = true;
            self->stream_.expires_after(self->write_timeout_);
            boost::asio::async_write(self->stream_, boost::asio::buffer(self->out_),
                                     beast::bind_front_handler(&sse_session::on_write, self));
        }
        self->do_ping();
    });
}

void sse_session::close() {
    if (closed_) return;
    closed_ = true;
    ping_timer_.cancel();
    hub_.detach(this);
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
}

}  // namespace orderstream::http
