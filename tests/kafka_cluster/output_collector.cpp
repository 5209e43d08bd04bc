// See output_collector.hpp.
#include "kafka_cluster/output_collector.hpp"

#include <thread>

namespace orderstream::testing {

std::string tail_lines(const std::string& text, std::size_t n) {
    std::size_t pos = text.size();
    for (std::size_t seen = 0; pos > 0 && seen <= n; --pos)
        if (text[pos - 1] == '\n' && ++seen > n) break;
    return text.substr(pos);
}

void output_collector::attach(const daemon_process& daemon) {
    daemon_ = &daemon;
    since_ = 0;
}

bool output_collector::poll() {
    if (!daemon_) return false;
    nlohmann::json body;
    try {
        auto reply = daemon_->get("/api/outputs?since=" + std::to_string(since_) + "&strip_ansi=1");
        if (reply.status != 200) return false;
        body = reply.json();
    } catch (const std::exception&) {
        return false;
    }
    ++polls_;
    for (const auto& [terminal, entries] : body["terminals"].items()) {
        auto& kept = lines_[terminal];
        for (const auto& entry : entries) {
            const std::string line = entry["line"];
            ledger_.add(terminal, line);
            kept.push_back(line);
        }
    }
    for (const auto& terminal : body.value("missed", nlohmann::json::array()))
        missed_.push_back(terminal.get<std::string>());
    since_ = body["seq"].get<std::uint64_t>();
    return true;
}

bool output_collector::poll_until(const std::function<bool()>& condition,
                                  std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        poll();
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

void output_collector::keep_polling(std::chrono::milliseconds duration) {
    poll_until([] { return false; }, duration);
}

std::string output_collector::diagnostics(std::size_t lines_per_terminal) const {
    std::string text = ledger_.summary();
    if (!missed_.empty()) {
        text += "lines dropped unread from:";
        for (const auto& t : missed_) text += " " + t;
        text += "\n";
    }
    for (const auto& [terminal, kept] : lines_) {
        text += "--- last lines of terminal " + terminal + " (" + std::to_string(kept.size()) +
                " in all) ---\n";
        for (std::size_t i = kept.size() > lines_per_terminal ? kept.size() - lines_per_terminal : 0;
             i < kept.size(); ++i)
            text += kept[i] + "\n";
    }
    if (daemon_) text += "--- daemon log (tail) ---\n" + tail_lines(daemon_->log(), 40);
    return text;
}

}  // namespace orderstream::testing
