// The audit trail of state-changing requests; see audit_log.hpp.
#include "http/audit_log.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "log/logger.hpp"

namespace orderstream::http {
namespace {

nlohmann::json to_json(const audit_entry& e) {
    auto optional = [](const std::string& text) { return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text); };
    return {{"t_ms", e.t_ms},       {"action", e.action},          {"target", optional(e.target)},
            {"detail", optional(e.detail)}, {"outcome", e.outcome}, {"status", e.status},
            {"message", optional(e.message)}, {"client", e.client}, {"token", optional(e.token)}};
}

std::string dump(const nlohmann::json& value) { return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

std::string token_fingerprint(std::string_view token) {
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : token) hash = (hash ^ c) * 1099511628211ull;
    char text[9];
    std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(hash >> 32));
    return text;
}

audit_log::audit_log(const std::string& file) {
    if (file.empty()) return;
    file_.open(file, std::ios::app);
    if (!file_) throw std::runtime_error("audit.file: cannot open \"" + file + "\" for appending: " + std::strerror(errno));
}

void audit_log::add(audit_entry entry) {
    log::get("audit")->info("{} {}{}{} from {}{}: {} ({}){}", entry.action, entry.target, entry.detail.empty() ? "" : " ",
                            entry.detail, entry.client, entry.token.empty() ? "" : " (token " + entry.token + ")",
                            entry.outcome, entry.status, entry.message.empty() ? "" : ": " + entry.message);
    if (file_.is_open()) {
        file_ << dump(to_json(entry)) << '\n';
        file_.flush();
    }
    entries_.push_back(std::move(entry));
    while (entries_.size() > max_entries) entries_.pop_front();
}

std::string audit_log::json() const {
    auto list = nlohmann::json::array();
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) list.push_back(to_json(*it));
    return dump({{"entries", list}, {"kept", max_entries}});
}

}  // namespace orderstream::http
