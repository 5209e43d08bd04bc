// See connection_table.hpp.
#include "http/connection_table.hpp"

#include <algorithm>

namespace orderstream::http {

connection_table::handle connection_table::add() {
    prune();
    auto e = std::make_shared<entry>(live_);
    entries_.push_back(e);
    return e;
}

void connection_table::prune() {
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [](const auto& e) { return e.expired(); }),
                   entries_.end());
}

std::size_t connection_table::open() {
    prune();
    return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [](const auto& weak) {
        auto e = weak.lock();
        return e && e->now != state::closing;
    }));
}

std::size_t connection_table::streaming() {
    return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [](const auto& weak) {
        auto e = weak.lock();
        return e && e->now == state::streaming;
    }));
}

bool connection_table::evict_oldest_waiting() {
    for (const auto& weak : entries_) {
        auto e = weak.lock();
        if (!e || e->now != state::waiting || !e->close) continue;
        e->now = state::closing;
        e->close();
        return true;
    }
    return false;
}

}  // namespace orderstream::http
