// One Server-Sent Events client of GET /api/stream. Events:
//   lines      id: SEQ; data: the ?since= JSON of every line newer than the last one sent
//   clear      data: {"terminal":"email"} when a terminal was cleared
//   processes  data: the /api/processes JSON, when any state changed
//   metrics    data: the pipeline's figures, when they changed
// A reconnecting client sends Last-Event-ID (or ?since=) and gets exactly the lines it missed
// that the rings still hold; "missed" in a lines event says where it fell too far behind.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "http/stream_hub.hpp"

namespace orderstream::http {

class sse_session : public std::enable_shared_from_this<sse_session> {
public:
    sse_session(boost::beast::tcp_stream&& stream, stream_hub& hub, std::uint64_t since, bool strip_ansi,
                std::string response_head, std::chrono::milliseconds write_timeout,
                std::shared_ptr<void> connection_slot);
    ~sse_session();

    void start();
    // Something new may be there; sends it unless a write is already in flight (then the
    // completion of that write picks it up).
    void wake();

private:
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void do_ping();
    void close();

    boost::beast::tcp_stream stream_;
    stream_hub& hub_;
    std::uint64_t last_seq_;
    bool strip_ansi_;
    std::string out_;  // this client's own text (the head, clears, a ping)
    std::vector<stream_hub::frame> frames_;  // shared events in flight
    std::vector<boost::asio::const_buffer> buffers_;
    bool writing_ = false;
    bool closed_ = false;
    std::vector<std::uint64_t> clears_seen_;
    std::uint64_t processes_seen_ = 0;
    std::uint64_t metrics_seen_ = 0;
    std::chrono::milliseconds write_timeout_;
    boost::asio::steady_timer ping_timer_;
    std::shared_ptr<void> slot_;  // counts toward http.max_connections while open
};

}  // namespace orderstream::http
