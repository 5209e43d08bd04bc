// Reads the daemon's terminals incrementally (GET /api/outputs?since=SEQ) into an order ledger,
// across polls and across daemons (a new daemon's sequence numbers start again).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kafka_cluster/order_ledger.hpp"
#include "support/daemon_process.hpp"

namespace orderstream::testing {

class output_collector {
public:
    // Starts reading `daemon` from its first line.
    void attach(const daemon_process& daemon);

    // One poll; false when the daemon did not answer (e.g. it is exiting).
    bool poll();
    // Polls every 200 ms until `condition` holds or `timeout` passes; returns whether it held.
    bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);
    // Polls for this long.
    void keep_polling(std::chrono::milliseconds duration);

    const order_ledger& ledger() const { return ledger_; }
    // Lines whose order matters beyond the ledger, by terminal (all of them, all daemons).
    const std::vector<std::string>& lines(const std::string& terminal) { return lines_[terminal]; }
    // Terminals whose ring dropped lines before they were read: the ledger is then incomplete.
    const std::vector<std::string>& missed() const { return missed_; }
    std::size_t polls() const { return polls_; }

    // The last lines of every terminal and of the daemon's log, for failure messages.
    std::string diagnostics(std::size_t lines_per_terminal = 12) const;

private:
    const daemon_process* daemon_ = nullptr;
    std::uint64_t since_ = 0;
    order_ledger ledger_;
    std::map<std::string, std::vector<std::string>> lines_;
    std::vector<std::string> missed_;
    std::size_t polls_ = 0;
};

// The last `n` lines of a text.
std::string tail_lines(const std::string& text, std::size_t n);

}  // namespace orderstream::testing
