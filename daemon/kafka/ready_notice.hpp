// The child's side of the supervisor's notify socket: a consumer tells the daemon that it is
// ready (it holds its assignment) and which partitions it holds, as sd_notify does for systemd.
#pragma once

#include <string>
#include <vector>

namespace orderstream::kafka {

// Set by the supervisor for every child: a Unix datagram socket path ("@name": abstract).
inline constexpr const char* notify_socket_env = "ORDERSTREAM_READY_SOCKET";

class ready_notice {
public:
    // Reads the socket from the environment; without one, send() does nothing.
    ready_notice();
    ~ready_notice();
    ready_notice(const ready_notice&) = delete;
    ready_notice& operator=(const ready_notice&) = delete;

    // "READY=1\nPARTITIONS=0,2\n": the daemon takes the sender's pid from the socket itself.
    // Best effort: a daemon that is gone or busy loses nothing but this notice.
    void assigned(const std::vector<int>& partitions);

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace orderstream::kafka
