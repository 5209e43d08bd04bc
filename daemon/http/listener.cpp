// Accepting connections; see listener.hpp.
#include "http/listener.hpp"

#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "log/logger.hpp"

namespace orderstream::http {

listener::listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                   router& router, session_limits limits, std::size_t max_connections)
    : io_(io), acceptor_(io), router_(router), limits_(limits), max_connections_(max_connections) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(boost::asio::socket_base::max_listen_connections);
}

void listener::run() { do_accept(); }

void listener::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
}

void listener::do_accept() {
    acceptor_.async_accept(io_, boost::beast::bind_front_handler(&listener::on_accept,
                                                                 shared_from_this()));
}

void listener::on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;  // stopped
    if (ec) {
        // EMFILE and the like; http.max_connections keeps us well below the descriptor limit.
        log::get("http")->warn("accept failed: {}", ec.message());
    } else {
        bool busy = open_connections() >= max_connections_;
        auto session = std::make_shared<http_session>(std::move(socket), router_, limits_, connections_);
        if (busy)
            session->reject_busy();
        else
            session->run();
    }
    do_accept();
}

}  // namespace orderstream::http
