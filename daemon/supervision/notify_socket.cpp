// Receives children's readiness notices; see notify_socket.hpp.
#include "supervision/notify_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <charconv>
#include <cstring>
#include <system_error>

#include "log/logger.hpp"

namespace orderstream::supervision {

notice parse_notice(std::string_view datagram) {
    notice result;
    while (!datagram.empty()) {
        auto end = datagram.find('\n');
        auto line = datagram.substr(0, end);
        datagram = end == std::string_view::npos ? std::string_view() : datagram.substr(end + 1);
        if (line == "READY=1") result.ready = true;
        if (line.rfind("PARTITIONS=", 0) != 0) continue;
        auto list = line.substr(11);
        std::vector<int> partitions;
        bool valid = true;
        // Empty, or numbers each followed by a comma but the last.
        for (bool more = !list.empty(); more && valid && partitions.size() < 1024;) {
            auto comma = list.find(',');
            auto item = list.substr(0, comma);
            int value = -1;
            auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
            valid = ec == std::errc() && ptr == item.data() + item.size() && value >= 0;
            partitions.push_back(value);
            more = comma != std::string_view::npos;
            list = more ? list.substr(comma + 1) : std::string_view();
        }
        if (valid && list.empty()) {
            result.has_partitions = true;
            result.partitions = std::move(partitions);
        }
    }
    return result;
}

notify_socket::notify_socket(boost::asio::io_context& io, handler on_notice) : socket_(io), on_notice_(std::move(on_notice)) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "ready socket");
    socket_.assign(fd);
    // Autobind: the kernel picks an unused abstract name, so no other process can take it first.
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socklen_t length = sizeof(sa_family_t);
    int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0 ||
        ::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0)
        throw std::system_error(errno, std::generic_category(), "ready socket");
    length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        length <= offsetof(sockaddr_un, sun_path) + 1)
        throw std::system_error(errno, std::generic_category(), "ready socket name");
    path_ = "@" + std::string(address.sun_path + 1, length - offsetof(sockaddr_un, sun_path) - 1);
    do_wait();
}

void notify_socket::close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

void notify_socket::do_wait() {
    socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) { on_readable(ec); });
}

void notify_socket::on_readable(const boost::system::error_code& ec) {
    if (ec) return;  // closed
    // At most a bounded batch per wake-up, so a flood cannot hold the event loop.
    for (int i = 0; i < 64; ++i) {
        iovec data{buffer_.data(), buffer_.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        msghdr message{};
        message.msg_iov = &data;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(socket_.native_handle(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log::get("supervisor")->warn("notify socket: {}", std::strerror(errno));
            break;
        }
        pid_t sender = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred credentials{};
                std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
                sender = credentials.pid;
            }
        if (sender <= 0 || (message.msg_flags & MSG_TRUNC)) continue;
        auto parsed = parse_notice(std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
        parsed.pid = sender;
        on_notice_(parsed);
    }
    do_wait();
}

}  // namespace orderstream::supervision
