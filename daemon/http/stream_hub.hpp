// The push stream's fan-out: knows every connected stream client and wakes them when lines,
// process states or metrics change. Clients pull what is new themselves, so a slow client costs
// one batch in flight and never holds up the others or the daemon. Each event is serialised
// once and shared by every client that needs it (as in Beast's chat-multi): the processes and
// metrics events, and the lines event for the clients at the same place, per variant (with and
// without ANSI codes).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "capture/output_store.hpp"

namespace orderstream::http {

class sse_session;

class stream_hub {
public:
    // Changes are gathered for `coalesce` before clients are woken, so a burst of lines goes
    // out as one event per client instead of one per line.
    stream_hub(boost::asio::io_context& io, capture::output_store& store,
               std::chrono::milliseconds coalesce = std::chrono::milliseconds(30));

    void attach(const std::shared_ptr<sse_session>& session);
    void detach(const sse_session* session);
    std::size_t clients() const { return sessions_.size(); }

    // Lines arrived or terminals were cleared.
    void changed();
    // A JSON snapshot of every process; clients that have not seen this version get it.
    void set_processes(std::string json);
    void set_metrics(std::string json);

    using frame = std::shared_ptr<const std::string>;
    const capture::output_store& store() const { return store_; }
    std::uint64_t processes_version() const { return processes_version_; }
    // "event: processes\ndata: …\n\n", and the same for the metrics.
    const frame& processes_frame() const { return processes_frame_; }
    std::uint64_t metrics_version() const { return metrics_version_; }
    const frame& metrics_frame() const { return metrics_frame_; }
    // The lines event for a client that has every line up to `since`: built by the first
    // client at that place, shared by the rest.
    frame lines_frame(std::uint64_t since, bool strip_ansi);
    std::uint64_t frames_built() const { return frames_built_; }
    std::uint64_t events_sent() const { return events_sent_; }
    void count_event() { ++events_sent_; }

private:
    void schedule();
    void wake_all();

    capture::output_store& store_;
    boost::asio::steady_timer timer_;
    std::chrono::milliseconds coalesce_;
    bool scheduled_ = false;
    // Held here while connected: an idle session has no pending operation to keep it alive.
    std::vector<std::shared_ptr<sse_session>> sessions_;
    frame processes_frame_;
    std::uint64_t processes_version_ = 0;
    frame metrics_frame_;
    std::uint64_t metrics_version_ = 0;
    // The last lines event built, per variant, and what it was built for.
    struct lines_cache {
        std::uint64_t since = 0, upto = 0, clears = 0;
        frame built;
    };
    lines_cache lines_[2];
    std::uint64_t frames_built_ = 0;
    std::uint64_t events_sent_ = 0;
};

}  // namespace orderstream::http
