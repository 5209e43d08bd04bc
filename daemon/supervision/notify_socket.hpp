// The daemon's side of the notify socket: children (any command) send sd_notify-style datagrams,
// "READY=1\nPARTITIONS=0,2\n", and the kernel tells us which pid sent each one, so a child can
// only speak for itself.
#pragma once

#include <sys/types.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace orderstream::supervision {

struct notice {
    pid_t pid = 0;
    bool ready = false;
    bool has_partitions = false;
    std::vector<int> partitions;
};

// Parses one datagram; unknown fields are ignored, and so are malformed partition lists.
notice parse_notice(std::string_view datagram);

class notify_socket {
public:
    using handler = std::function<void(const notice&)>;

    // Binds an abstract Unix datagram socket with a name the kernel picks; throws
    // std::system_error when it cannot.
    notify_socket(boost::asio::io_context& io, handler on_notice);
    // What children get in ORDERSTREAM_READY_SOCKET: "@" and the abstract name (5 hex digits).
    const std::string& path() const { return path_; }
    void close();

private:
    void do_wait();
    void on_readable(const boost::system::error_code& ec);

    boost::asio::posix::stream_descriptor socket_;
    std::string path_;
    handler on_notice_;
    std::array<char, 4096> buffer_{};  // a larger datagram is cut, and then ignored
};

}  // namespace orderstream::supervision
