// Accepts TCP connections and hands each to an http_session, up to a cap on open connections.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "http/http_session.hpp"

namespace orderstream::http {

class listener : public std::enable_shared_from_this<listener> {
public:
    // Binds at once; throws boost::system::system_error when the address cannot be used.
    listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
             router& router, session_limits limits, std::size_t max_connections);
    void run();
    void stop();
    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    std::size_t open_connections() const { return connections_.use_count() - 1; }

private:
    void do_accept();
    void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    router& router_;
    session_limits limits_;
    std::size_t max_connections_;
    // Each session holds a copy; use_count() - 1 is the number of open connections.
    std::shared_ptr<int> connections_ = std::make_shared<int>(0);
};

}  // namespace orderstream::http
