// sd_notify integration; see systemd_notifier.hpp.
#include "app/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>

#include "log/logger.hpp"

namespace orderstream::app {

systemd_notifier::systemd_notifier(boost::asio::io_context& io, std::function<std::string()> status)
    : watchdog_timer_(io), status_timer_(io), status_(std::move(status)) {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket && *socket;
}

void systemd_notifier::start() {
    if (!enabled_) return;
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_interval_ = std::chrono::microseconds(usec / 2);
        log::get("main")->info("systemd watchdog every {} ms", watchdog_interval_.count() / 1000);
        do_watchdog();
    }
    do_status();
}

void systemd_notifier::update(bool ready) {
    if (!enabled_ || stopping_) return;
    if (ready && !ready_sent_) {
        ready_sent_ = true;
        last_status_ = status_();
        notify("READY=1\nSTATUS=" + last_status_);
        return;
    }
    std::string status = status_();
    if (status != last_status_) {
        last_status_ = status;
        notify("STATUS=" + status);
    }
}

void systemd_notifier::stopping() {
    if (!enabled_ || stopping_) return;
    stopping_ = true;
    status_timer_.cancel();
    notify("STOPPING=1\nSTATUS=stopping children");
}

void systemd_notifier::notify(const std::string& message) {
    int result = sd_notify(0, message.c_str());
    if (result < 0) log::get("main")->warn("sd_notify failed: {}", std::strerror(-result));
}

// The pings come from the event loop itself, so a loop that hangs stops them and systemd
// restarts the service.
void systemd_notifier::do_watchdog() {
    watchdog_timer_.expires_after(watchdog_interval_);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        notify("WATCHDOG=1");
        do_watchdog();
    });
}

void systemd_notifier::do_status() {
    status_timer_.expires_after(std::chrono::seconds(5));
    status_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        update(ready_sent_);
        do_status();
    });
}

}  // namespace orderstream::app
