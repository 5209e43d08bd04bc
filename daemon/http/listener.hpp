// Accepts TCP connections and hands each to an http_session, up to a cap on open connections.
// At the cap it closes the oldest connection still waiting for a request header; out of file
// descriptors it closes one too and backs off (doubling up to 1 s), logging once per episode.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

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
    // Safe from any thread: connections whose session has not ended yet.
    std::size_t open_connections() const { return table_->live(); }

private:
    void do_accept();
    void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);
    void back_off(const boost::beast::error_code& ec);

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    router& router_;
    session_limits limits_;
    std::size_t max_connections_;
    std::shared_ptr<connection_table> table_ = std::make_shared<connection_table>();
    boost::asio::steady_timer retry_;
    std::chrono::milliseconds backoff_{0};
    std::uint64_t failed_accepts_ = 0;  // in the current episode
    std::chrono::steady_clock::time_point last_failure_;
};

}  // namespace orderstream::http
