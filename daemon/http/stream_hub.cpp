// Fan-out of stream events; see stream_hub.hpp.
#include "http/stream_hub.hpp"

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

void stream_hub::set_processes(std::string json) {
    processes_json_ = std::move(json);
    ++processes_version_;
    if (!scheduled_ && !sessions_.empty()) schedule();
}

void stream_hub::set_metrics(std::string json) {
    metrics_json_ = std::move(json);
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
