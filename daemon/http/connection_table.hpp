// The open connections in accept order, so that at the cap the listener can close the oldest one
// that has not sent a whole request header (an idle or half-open connection) instead of refusing
// a newcomer, and so that stream clients cannot take the last slots.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>

namespace orderstream::http {

class connection_table {
public:
    enum class state {
        waiting,    // no whole request header yet (just accepted, or idle between requests)
        busy,       // a request is being read past its header, or answered
        streaming,  // a stream client: reading, so never closed for idleness
        closing,    // evicted; its descriptor is released once its handler has run
    };
    struct entry {
        explicit entry(std::shared_ptr<std::atomic<std::size_t>> live) : live_(std::move(live)) { ++*live_; }
        ~entry() { --*live_; }
        entry(const entry&) = delete;
        entry& operator=(const entry&) = delete;

        state now = state::waiting;
        std::function<void()> close;  // closes the connection (set by its session)

    private:
        std::shared_ptr<std::atomic<std::size_t>> live_;
    };
    // Held by a connection's session for its whole life; the table forgets it when released.
    using handle = std::shared_ptr<entry>;

    handle add();
    // Connections that hold (or will soon hold) a descriptor, evicted ones excepted.
    std::size_t open();
    std::size_t streaming();
    // Closes the oldest waiting connection; false if there is none.
    bool evict_oldest_waiting();
    // Entries not yet released, from any thread (tests, metrics).
    std::size_t live() const { return *live_; }

private:
    void prune();
    std::deque<std::weak_ptr<entry>> entries_;  // oldest first
    std::shared_ptr<std::atomic<std::size_t>> live_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace orderstream::http
