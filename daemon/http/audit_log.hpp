// Who did what through the API: every request that changes state (every POST to /api/), with
// its time, action, target, outcome, the client's address and, when a token was presented, a
// short fingerprint of it (never the token). Kept in a bounded list for GET /api/audit, written
// to the daemon log, and appended as JSON lines to a file when one is configured.
#pragma once

#include <cstdint>
#include <deque>
#include <fstream>
#include <string>
#include <string_view>

namespace orderstream::http {

struct audit_entry {
    std::int64_t t_ms = 0;
    std::string action;   // "process.restart", "process.scale", "terminal.clear", "broker.stop", "config.reload", …
    std::string target;   // "shipping", "all", "2", … (empty when the action has none)
    std::string detail;   // e.g. the requested instances of a scale
    std::string outcome;  // "ok", "refused" (access control) or "failed"
    unsigned status = 0;  // the HTTP status answered
    std::string message;  // the error, when not ok
    std::string client;   // the peer's address, "IP:PORT"
    std::string token;    // fingerprint of the presented token, else empty
};

// 8 hex digits (32 bits of FNV-1a) of a token: enough to tell tokens apart in a log, too few to
// learn anything of a 16-character or longer secret. Not a cryptographic hash.
std::string token_fingerprint(std::string_view token);

class audit_log {
public:
    static constexpr std::size_t max_entries = 1000;

    // `file`: appended to as JSON lines (empty: none). Throws std::runtime_error when it cannot
    // be opened, so a wrong path stops the daemon at start.
    explicit audit_log(const std::string& file = "");

    void add(audit_entry entry);
    const std::deque<audit_entry>& entries() const { return entries_; }  // oldest first
    std::string json() const;                                            // newest first

private:
    std::deque<audit_entry> entries_;
    std::ofstream file_;
};

}  // namespace orderstream::http
