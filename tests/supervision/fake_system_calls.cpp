// The fake system calls; see fake_system_calls.hpp.
#include "fake_system_calls.hpp"

#include <system_error>

namespace orderstream::testing {

class fake_system_calls::fake_timer : public supervision::timer {
public:
    explicit fake_timer(fake_system_calls& owner) : owner_(owner), id_(owner.next_timer_++) {}
    ~fake_timer() override { cancel(); }

    void start(std::chrono::milliseconds delay, std::function<void()> on_expiry) override {
        owner_.timers_[id_] = {owner_.now_ + delay, owner_.next_order_++, std::move(on_expiry)};
    }
    void cancel() override { owner_.timers_.erase(id_); }

private:
    fake_system_calls& owner_;
    std::uint64_t id_;
};

std::shared_ptr<supervision::running_child> fake_system_calls::spawn(const supervision::spawn_request& request,
                                                                     line_handler, exit_handler on_exit) {
    if (fail_spawns) throw std::system_error(ENOENT, std::generic_category(), "no such program");
    const auto name = request.args.empty() ? request.command : request.args[0];
    auto child = std::make_shared<fake_child>(next_pid_++, std::move(on_exit),
                                              [this](std::function<void()> work) { deferred_.push_back(std::move(work)); });
    children[name].push_back(child);
    spawned_at[name].push_back(elapsed().count());
    return child;
}

std::unique_ptr<supervision::timer> fake_system_calls::make_timer() { return std::make_unique<fake_timer>(*this); }

void fake_system_calls::deliver() {
    while (!deferred_.empty()) {
        auto work = std::move(deferred_.front());
        deferred_.erase(deferred_.begin());
        work();
    }
}

void fake_system_calls::advance(std::chrono::milliseconds step) {
    const auto until = now_ + step;
    for (;;) {
        deliver();
        // The earliest due timer (the one started first among equals), if due by `until`.
        auto next = timers_.end();
        for (auto it = timers_.begin(); it != timers_.end(); ++it)
            if (it->second.due <= until &&
                (next == timers_.end() || it->second.due < next->second.due ||
                 (it->second.due == next->second.due && it->second.order < next->second.order)))
                next = it;
        if (next == timers_.end()) break;
        now_ = next->second.due;
        auto on_expiry = std::move(next->second.on_expiry);
        timers_.erase(next);
        on_expiry();
    }
    deliver();
    now_ = until;
}

}  // namespace orderstream::testing
