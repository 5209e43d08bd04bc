// Fan-out of stream events; see stream_hub.hpp.
#include "http/stream_hub.hpp"

#include "http/outputs_json.hpp"

#include <algorithm>

#include "http/sse_session.hpp"

namespace orderstream::http {

stream_hub::stream_hub(boost::asio::io_context& io, capture::output_store& store,
                       std::chrono::milliseconds coalesce)
    : store_(store), timer_(io), coalesce_(coalesce) {}

void stream_hub::attach(const std::shared_ptr<sse_session>& session) { sessions_.push_back(session); }

void stream_hub::detach(const sse_session* session) {
    sessions_.erase(std::remove_if(sessions_.begin(), sessions_.end(),
                                   [&](const std::shared_ptr<sse_session>& held) { return held.get() == session; }),
                    sessions_.end());
}

void stream_hub::changed() {
    if (!scheduled_ && !sessions_.empty()) schedule();
}

namespace {

stream_hub::frame event(std::string_view type, const std::string& json) {
    std::string text;
    text.reserve(json.size() + type.size() + 16);
    text.append("event: ").append(type).append("\ndata: ").append(json).append("\n\n");
    return std::make_shared<const std::string>(std::move(text));
}

}  // namespace

stream_hub::frame stream_hub::lines_frame(std::uint64_t since, bool strip_ansi) {
    std::uint64_t clears = 0;
    for (const auto& terminal : store_.terminals()) clears += terminal.clears;
    auto& cache = lines_[strip_ansi ? 1 : 0];
    if (cache.built && cache.since == since && cache.upto == store_.last_seq() && cache.clears == clears)
        return cache.built;
    std::string text = "id: " + std::to_string(store_.last_seq()) + "\nevent: lines\ndata: ";
    write_outputs_since(store_, since, strip_ansi, text);
    text += "\n\n";
    cache = {since, store_.last_seq(), clears, std::make_shared<const std::string>(std::move(text))};
    ++frames_built_;
    return cache.built;
}

void stream_hub::set_processes(std::string json) {
    processes_frame_ = event("processes", json);
    ++processes_version_;
    if (!scheduled_ && !sessions_.empty()) schedule();
}

void stream_hub::set_metrics(std::string json) {
    metrics_frame_ = event("metrics", json);
    ++metrics_version_;
    if (!scheduled_ && !sessions_.empty()) schedule();
}

void stream_hub::schedule() {
    scheduled_ = true;
    timer_.expires_after(coalesce_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        scheduled_ = false;

        if (!ec) wake_all();
    });
}

void stream_hub::wake_all() {
    // Copy: a session that fails while being woken detaches itself.
    auto sessions = sessions_;
    for (auto& session : sessions) session->wake();
}

}  // namespace orderstream::http
