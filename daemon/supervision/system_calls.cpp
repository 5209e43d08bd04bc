// The real system calls: child_process, asio timers, the system clocks; see system_calls.hpp.
#include "supervision/system_calls.hpp"

#include <boost/asio/steady_timer.hpp>

#include "supervision/child_process.hpp"

namespace orderstream::supervision {
namespace {

class asio_timer : public timer {
public:
    explicit asio_timer(boost::asio::io_context& io) : timer_(io) {}

    void start(std::chrono::milliseconds delay, std::function<void()> on_expiry) override {
        timer_.expires_after(delay);  // cancels what was pending
        timer_.async_wait([on_expiry = std::move(on_expiry)](const boost::system::error_code& ec) {
            if (!ec) on_expiry();
        });
    }
    void cancel() override { timer_.cancel(); }

private:
    boost::asio::steady_timer timer_;
};

class real_calls : public system_calls {
public:
    explicit real_calls(boost::asio::io_context& io) : io_(io) {}

    std::shared_ptr<running_child> spawn(const spawn_request& request, line_handler on_line,
                                         exit_handler on_exit) override {
        return child_process::spawn(io_, request, std::move(on_line), std::move(on_exit));
    }
    std::unique_ptr<timer> make_timer() override { return std::make_unique<asio_timer>(io_); }
    std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
    std::int64_t wall_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

private:
    boost::asio::io_context& io_;
};

}  // namespace

std::shared_ptr<system_calls> real_system_calls(boost::asio::io_context& io) { return std::make_shared<real_calls>(io); }

}  // namespace orderstream::supervision
