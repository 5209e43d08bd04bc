// Sends readiness notices to the supervisor; see ready_notice.hpp.
#include "kafka/ready_notice.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace orderstream::kafka {

ready_notice::ready_notice() {
    const char* path = std::getenv(notify_socket_env);
    if (!path || !*path || std::strlen(path) >= sizeof(sockaddr_un::sun_path)) return;
    path_ = path;
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

ready_notice::~ready_notice() {
    if (fd_ >= 0) ::close(fd_);
}

void ready_notice::assigned(const std::vector<int>& partitions) {
    if (fd_ < 0) return;
    std::string message = "READY=1\nPARTITIONS=";
    for (std::size_t i = 0; i < partitions.size(); ++i) message += (i ? "," : "") + std::to_string(partitions[i]);
    message += "\n";
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.data(), path_.size());
    if (path_[0] == '@') address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
    (void)::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
}

}  // namespace orderstream::kafka
