// The ready socket: what a child sends reaches the daemon with the sender's pid from the kernel,
// and datagrams from a broken or hostile sender are ignored, never trusted.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <boost/asio/io_context.hpp>

#include "kafka/ready_notice.hpp"
#include "supervision/notify_socket.hpp"

using namespace orderstream;

TEST_CASE("a notice is parsed field by field; a malformed partition list is ignored") {
    auto full = supervision::parse_notice("READY=1\nPARTITIONS=0,2,11\n");
    CHECK(full.ready);
    CHECK(full.has_partitions);
    CHECK(full.partitions == std::vector<int>{0, 2, 11});
    auto none = supervision::parse_notice("READY=1\nPARTITIONS=\n");
    CHECK(none.has_partitions);
    CHECK(none.partitions.empty());
    for (const char* bad : {"PARTITIONS=1,,2", "PARTITIONS=-1", "PARTITIONS=1,x", "PARTITIONS=99999999999", "PARTITIONS=1,"}) {
        INFO(bad);
        CHECK_FALSE(supervision::parse_notice(bad).has_partitions);
    }
    CHECK_FALSE(supervision::parse_notice("READY=0\nSTATUS=whatever").ready);
    CHECK_FALSE(supervision::parse_notice(std::string("READY=1\0", 8)).has_partitions);
}

TEST_CASE("what a child sends arrives with its pid; an oversized datagram is dropped") {
    boost::asio::io_context io;
    std::vector<supervision::notice> received;
    supervision::notify_socket socket(io, [&](const supervision::notice& n) { received.push_back(n); });
    REQUIRE(socket.path().size() > 1);
    REQUIRE(socket.path()[0] == '@');

    // Oversized: cut by the kernel, so ignored.
    int raw = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(raw >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, socket.path().data() + 1, socket.path().size() - 1);
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket.path().size());
    std::string huge = "READY=1\nPARTITIONS=1\n" + std::string(8000, 'x');
    REQUIRE(::sendto(raw, huge.data(), huge.size(), 0, reinterpret_cast<const sockaddr*>(&address), length) ==
            static_cast<ssize_t>(huge.size()));
    ::close(raw);

    ::setenv(kafka::notify_socket_env, socket.path().c_str(), 1);
    kafka::ready_notice notice;
    ::unsetenv(kafka::notify_socket_env);
    notice.assigned({0, 2});
    for (int i = 0; i < 100 && received.empty(); ++i) io.run_for(std::chrono::milliseconds(10));
    REQUIRE(received.size() == 1);
    CHECK(received[0].pid == ::getpid());
    CHECK(received[0].ready);
    CHECK(received[0].partitions == std::vector<int>{0, 2});
    socket.close();
}
