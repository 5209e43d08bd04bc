// The systemd notify protocol (sd_notify): READY=1 once the daemon listens and every child runs,
// STATUS= summaries, WATCHDOG=1 from the event loop, STOPPING=1 on shutdown. Without
// $NOTIFY_SOCKET every call is a no-op.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace orderstream::app {

class systemd_notifier {
public:
    // `status` builds the one-line STATUS= summary; it runs on the event loop.
    systemd_notifier(boost::asio::io_context& io, std::function<std::string()> status);

    // Starts the watchdog pings (at half of $WATCHDOG_USEC) and periodic status updates.
    void start();
    // Sends READY=1 the first time `ready` is true; later calls only refresh STATUS.
    void update(bool ready);
    void stopping();

private:
    void notify(const std::string& message);
    void do_watchdog();
    void do_status();

    boost::asio::steady_timer watchdog_timer_;
    boost::asio::steady_timer status_timer_;
    std::chrono::microseconds watchdog_interval_{0};
    std::function<std::string()> status_;
    std::string last_status_;
    bool enabled_ = false;
    bool ready_sent_ = false;
    bool stopping_ = false;
};

}  // namespace orderstream::app
