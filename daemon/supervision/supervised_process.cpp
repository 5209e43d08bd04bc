// The lifecycle of one configured process; see supervised_process.hpp.
#include "supervision/supervised_process.hpp"

#include <signal.h>

#include <algorithm>
#include <cmath>

#include "log/logger.hpp"
#include "supervision/child_process.hpp"

namespace orderstream::supervision {
namespace {

std::chrono::milliseconds seconds(double value) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(value * 1000)));
}

constexpr std::size_t max_history = 32;

}  // namespace

supervised_process::supervised_process(system_calls& calls, config::process_config config,
                                       std::string program, int instance, spawn_request request,
                                       system_calls::line_handler on_line, state_listener on_change)
    : calls_(calls),
      config_(std::move(config)),
      program_(std::move(program)),
      instance_(instance),
      request_(std::move(request)),
      on_line_(std::move(on_line)),
      on_change_(std::move(on_change)),
      stable_timer_(calls.make_timer()),
      backoff_timer_(calls.make_timer()),
      kill_timer_(calls.make_timer()),
      pid_timer_(calls.make_timer()),
      alive_(std::make_shared<supervised_process*>(this)) {}

supervised_process::~supervised_process() {
    if (child_) {
        // The supervisor stops every child before it goes; this only guards against leaks.
        child_->detach_handlers();
        child_->kill_all();
    }
}

std::optional<pid_t> supervised_process::pid() const {
    if (child_ && !child_->exited()) return child_->command_pid();
    return std::nullopt;
}

// The reaper starts the command a moment after spawn(): once its pid is known, listeners hear
// of it (a change to the same state), so pages and APIs show it without waiting for RUNNING.
void supervised_process::on_pid_check() {
    if (!child_ || child_->exited()) return;
    if (auto pid = child_->command_pid()) {
        log::get("supervisor")->info("{}: running as pid {}", config_.name, *pid);
        if (on_change_) on_change_(*this, state_);
        return;
    }
    if (++pid_checks_ < 40) schedule(*pid_timer_, std::chrono::milliseconds(5 * pid_checks_), &supervised_process::on_pid_check);
}

std::optional<double> supervised_process::uptime_seconds() const {
    if (!child_) return std::nullopt;
    return std::chrono::duration<double>(calls_.now() - started_at_).count();
}

std::chrono::milliseconds supervised_process::next_backoff() const {
    const auto& restart = config_.restart;
    double delay = restart.backoff_initial_seconds *
                   std::pow(2.0, std::max(0, std::min(quick_failures_ - 1, 30)));
    return seconds(std::min(delay, restart.backoff_max_seconds));
}

void supervised_process::start() {
    switch (state_) {
        case process_state::starting:
        case process_state::running:
            return;
        case process_state::stopping:
            start_after_stop_ = true;
            return;
        case process_state::backoff:
            backoff_timer_->cancel();
            break;
        default:
            break;
    }
    quick_failures_ = 0;
    spawn();
}

void supervised_process::stop(std::chrono::milliseconds grace) {
    start_after_stop_ = false;
    switch (state_) {
        case process_state::starting:
        case process_state::running:
            change_state(process_state::stopping);
            stable_timer_->cancel();
            child_->signal(SIGTERM);
            // A stopped (SIGSTOP, SIGTSTP) child holds SIGTERM until it continues.
            child_->signal(SIGCONT);
            kill_sent_ = false;
            schedule(*kill_timer_, grace, &supervised_process::on_grace_elapsed);
            return;
        case process_state::backoff:
            backoff_timer_->cancel();
            change_state(process_state::stopped);
            return;
        default:
            return;  // already stopping, or at rest
    }
}

void supervised_process::restart(std::chrono::milliseconds grace, const std::string& reason) {
    next_reason_ = reason;
    if (is_at_rest(state_) || state_ == process_state::backoff) {
        start();
        return;
    }
    stop(grace);
    start_after_stop_ = true;
}

bool supervised_process::owns(pid_t pid) const { return child_ && child_->owns(pid); }

void supervised_process::notice(bool ready, std::vector<int> partitions) {
    if (!child_) return;  // from a child that is gone by now
    const bool was_ready = this->ready();
    const bool changed = (ready && !notified_ready_) || partitions != partitions_ || partitions_ms_ == 0;
    notified_ready_ = notified_ready_ || ready;
    // A partition held before keeps the time it was first claimed.
    std::vector<std::int64_t> claimed;
    for (int partition : partitions) {
        auto before = std::find(partitions_.begin(), partitions_.end(), partition);
        claimed.push_back(before != partitions_.end() ? claimed_ms_[static_cast<std::size_t>(before - partitions_.begin())]
                                                      : calls_.wall_ms());
    }
    partitions_ = std::move(partitions);
    claimed_ms_ = std::move(claimed);
    partitions_ms_ = calls_.wall_ms();
    if (!was_ready && this->ready()) remember("ready", "");
    if (changed && on_change_) on_change_(*this, state_);
}

bool supervised_process::ready() const {
    return state_ == process_state::running && (!config_.notify_ready || notified_ready_);
}

std::chrono::milliseconds supervised_process::set_stalled(bool stalled, std::chrono::steady_clock::time_point now) {
    if (!stalled || state_ != process_state::running) {
        if (stalled_since_) {
            stalled_since_.reset();
            if (on_change_) on_change_(*this, state_);  // listeners see it is no longer stalled
        }
        return std::chrono::milliseconds(0);
    }
    if (!stalled_since_) {
        stalled_since_ = now;
        remember("stalled", "its partitions' committed offsets stopped moving while orders wait");
        if (on_change_) on_change_(*this, state_);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - *stalled_since_);
}

void supervised_process::remember(std::string event, std::string reason) {
    history_.push_back({calls_.wall_ms(), std::move(event), std::move(reason)});
    while (history_.size() > max_history) history_.pop_front();
}

void supervised_process::spawn() {
    std::weak_ptr<supervised_process*> weak = alive_;
    try {
        child_ = calls_.spawn(request_, on_line_, [weak](int status) {
            if (auto alive = weak.lock()) (*alive)->on_child_exit(status);
        });
    } catch (const std::exception& error) {
        // Like supervisord's spawnerr: counts as a failure to start.
        last_exit_ = std::string("spawn failed: ") + error.what();
        if (spawns_++ > 0) ++restarts_;
        change_state(process_state::starting);
        on_child_exit(-1);
        return;
    }
    started_at_ = calls_.now();
    notified_ready_ = false;
    partitions_.clear();
    claimed_ms_.clear();
    partitions_ms_ = 0;
    stalled_since_.reset();
    held_.clear();
    if (spawns_++ > 0) ++restarts_;
    change_state(process_state::starting);
    pid_checks_ = 0;
    schedule(*pid_timer_, std::chrono::milliseconds(1), &supervised_process::on_pid_check);
    schedule(*stable_timer_, seconds(config_.restart.stable_seconds), &supervised_process::on_stable);
}

void supervised_process::on_child_exit(int status) {
    if (status != -1) last_exit_ = describe_exit(status);
    child_.reset();
    notified_ready_ = false;
    partitions_.clear();
    claimed_ms_.clear();
    partitions_ms_ = 0;
    stalled_since_.reset();
    stable_timer_->cancel();
    pid_timer_->cancel();
    kill_timer_->cancel();

    if (state_ == process_state::stopping) {
        change_state(process_state::stopped);
        if (start_after_stop_) {
            start_after_stop_ = false;
            start();
        }
        return;
    }
    if (!config_.restart.autorestart) {
        change_state(process_state::exited);
        return;
    }
    if (state_ == process_state::starting) {
        if (++quick_failures_ >= config_.restart.max_quick_failures) {
            change_state(process_state::fatal);
            return;
        }
    } else {
        quick_failures_ = 0;  // it had run stably: start the backoff afresh
    }
    change_state(process_state::backoff);
    schedule(*backoff_timer_, next_backoff(), &supervised_process::on_backoff_elapsed);
}

void supervised_process::on_stable() {
    if (state_ != process_state::starting) return;
    quick_failures_ = 0;
    change_state(process_state::running);
    if (ready()) {
        remember("ready", "");
        if (on_change_) on_change_(*this, state_);
    }
}

void supervised_process::on_backoff_elapsed() {
    if (state_ == process_state::backoff) spawn();
}

void supervised_process::on_grace_elapsed() {
    if (state_ != process_state::stopping || !child_) return;
    if (kill_sent_) {  // the reaper outlived its command: it goes too
        child_->kill_all();
        return;
    }
    log::get("supervisor")->warn("{} did not stop within its grace period; sending SIGKILL", config_.name);
    child_->signal(SIGKILL);
    kill_sent_ = true;
    schedule(*kill_timer_, std::chrono::seconds(1), &supervised_process::on_grace_elapsed);
}

void supervised_process::change_state(process_state next) {
    process_state previous = state_;
    state_ = next;
    std::string reason = std::move(next_reason_);
    next_reason_.clear();
    if (reason.empty() && (next == process_state::backoff || next == process_state::exited || next == process_state::fatal))
        reason = last_exit_.value_or("");
    remember(std::string(to_string(next)), std::move(reason));
    if (on_change_) on_change_(*this, previous);
}

void supervised_process::schedule(timer& timer, std::chrono::milliseconds delay, void (supervised_process::*step)()) {
    std::weak_ptr<supervised_process*> weak = alive_;
    timer.start(delay, [weak, step] {
        if (auto alive = weak.lock()) ((*alive)->*step)();
    });
}

}  // namespace orderstream::supervision
