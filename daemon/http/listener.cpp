// Accepting connections; see listener.hpp.
#include "http/listener.hpp"

#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "log/logger.hpp"

namespace orderstream::http {
namespace {

// Idle connections closed per failed accept, so the queue of pending ones drains in bursts.
constexpr int evictions_per_failure = 16;

}  // namespace

listener::listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                   router& router, session_limits limits, std::size_t max_connections)
    : io_(io), acceptor_(io), router_(router), limits_(limits), max_connections_(max_connections), retry_(io) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(boost::asio::socket_base::max_listen_connections);
}

void listener::run() { do_accept(); }

void listener::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
}

void listener::do_accept() {
    acceptor_.async_accept(io_, boost::beast::bind_front_handler(&listener::on_accept,
                                                                 shared_from_this()));
}

void listener::on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;  // stopped
    if (ec) return back_off(ec);
    // An episode ends after a second without a failed accept (a success in between is usually
    // just the descriptor an eviction freed).
    if (failed_accepts_ > 0 && std::chrono::steady_clock::now() - last_failure_ > std::chrono::seconds(1)) {
        log::get("http")->info("accepting connections again after {} failed accepts", failed_accepts_);
        failed_accepts_ = 0;
        backoff_ = std::chrono::milliseconds(0);
    }
    // At the cap, an idle or half-open connection makes room; only when every connection is
    // busy or streaming is the newcomer refused.
    bool busy = table_->open() >= max_connections_ && !table_->evict_oldest_waiting();
    auto session = std::make_shared<http_session>(std::move(socket), router_, limits_, table_, table_->add());
    if (busy)
        session->reject_busy();
    else
        session->run();
    do_accept();
}

// Accepting again at once after EMFILE would spin (the pending connection stays queued): free
// descriptors that idle connections hold, and wait a little longer each time.
void listener::back_off(const boost::beast::error_code& ec) {
    if (failed_accepts_++ == 0)
        log::get("http")->warn("accept failed: {}; backing off until it works again", ec.message());
    last_failure_ = std::chrono::steady_clock::now();
    for (int i = 0; i < evictions_per_failure; ++i)
        if (!table_->evict_oldest_waiting()) break;
    backoff_ = std::min<std::chrono::milliseconds>(std::max<std::chrono::milliseconds>(backoff_ * 2, std::chrono::milliseconds(10)),
                                                   std::chrono::seconds(1));
    retry_.expires_after(backoff_);
    retry_.async_wait([self = shared_from_this()](const boost::system::error_code& wait_ec) {
        if (!wait_ec) self->do_accept();
    });
}

}  // namespace orderstream::http
