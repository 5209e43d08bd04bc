// Burrow-style evaluation of a consumer group; see group_health.hpp.
#include "pipeline/group_health.hpp"

#include <algorithm>

namespace orderstream::pipeline {
namespace {

// Readings a window needs before a growing lag counts as a trend (WARN).
constexpr std::size_t min_trend_readings = 4;

}  // namespace

std::string_view to_string(group_status status) {
    switch (status) {
        case group_status::ok: return "OK";
        case group_status::warn: return "WARN";
        case group_status::stall: return "STALL";
        case group_status::stop: return "STOP";
        case group_status::err: return "ERR";
    }
    return "ERR";
}

void group_health::sample(std::int64_t now_ms, const std::vector<group_partition>& partitions) {
    for (const auto& p : partitions) {
        if (p.end < 0) continue;  // lag unknown
        const std::int64_t lag = std::max<std::int64_t>(0, p.end - std::max<std::int64_t>(0, p.committed));
        auto& points = points_[p.partition];
        points.push_back({now_ms, p.committed, lag});
        // Keep one reading at or before the window's start, so a full window can be judged.
        while (points.size() > 2 && points[1].t_ms <= now_ms - window_ms_) points.pop_front();
        if (points.size() > 4096) points.pop_front();  // a bound, whatever the tick rate
    }
}

partition_verdict group_health::judge(std::int32_t partition, const std::deque<point>& points, std::int64_t now_ms,
                                      const std::string& holder, bool members_present) const {
    partition_verdict verdict{partition, group_status::ok, points.back().lag, holder, ""};
    const std::string held = !holder.empty()     ? "held by " + holder
                             : members_present ? "no member holds it while the group has members"
                                               : "no member holds it";
    const auto seconds = std::to_string(window_ms_ / 1000) + " s";
    // Not a whole window yet: nothing to judge.
    if (points.front().t_ms > now_ms - window_ms_) return verdict;
    std::int64_t min_lag = points.front().lag;
    bool never_shrank = true;
    for (std::size_t i = 1; i < points.size(); ++i) {
        min_lag = std::min(min_lag, points[i].lag);
        never_shrank = never_shrank && points[i].lag >= points[i - 1].lag;
    }
    if (min_lag == 0) return verdict;
    const bool moved = points.back().committed != points.front().committed;
    const auto p = "partition " + std::to_string(partition) + ": ";
    if (moved) {
        // As Burrow wants several commits per window: with fewer readings a growing lag is chance.
        if (points.size() >= min_trend_readings && never_shrank && points.back().lag > points.front().lag) {
            verdict.status = group_status::warn;
            verdict.reason = p + "commits move but the lag only grew in " + seconds + " (" +
                             std::to_string(points.front().lag) + " to " + std::to_string(points.back().lag) + "); " + held;
        }
        return verdict;
    }
    verdict.status = holder.empty() && !members_present ? group_status::stop : group_status::stall;
    verdict.reason = p + "the committed offset has not moved for " + seconds + " while " +
                     std::to_string(points.back().lag) + " orders wait; " + held;
    return verdict;
}

group_verdict group_health::evaluate(std::int64_t now_ms, bool readable, const std::vector<local_member>& members,
                                     const std::vector<group_member>& described) const {
    group_verdict verdict;
    for (const auto& member : members)
        if (!member.gone.empty()) {
            verdict.status = group_status::err;
            verdict.reason = member.name + " is " + member.gone;
        }
    if (!readable) {
        verdict.status = group_status::err;
        verdict.reason = "the group's committed offsets cannot be read";
    }
    const bool members_present = !described.empty() || std::any_of(members.begin(), members.end(),
                                                                    [](const local_member& m) { return m.alive; });
    for (const auto& [partition, points] : points_) {
        // Old readings say nothing of now: no judgment, and nobody restarted for them.
        if (points.empty() || !readable || points.back().t_ms < now_ms - std::max<std::int64_t>(window_ms_ / 2, 5000)) continue;
        // The holder: the live member of ours that claimed it last, else the cluster's word.
        std::string holder;
        std::int64_t claimed = -1;
        for (const auto& member : members) {
            if (!member.alive) continue;
            for (std::size_t i = 0; i < member.partitions.size() && i < member.claimed_ms.size(); ++i)
                if (member.partitions[i] == partition && member.claimed_ms[i] > claimed) {
                    holder = member.name;
                    claimed = member.claimed_ms[i];
                }
        }
        if (holder.empty())
            for (const auto& member : described)
                if (std::count(member.partitions.begin(), member.partitions.end(), partition))
                    holder = member.client_id.empty() ? member.member_id : member.client_id;
        // A partition that just changed hands is its new holder's only after a whole window.
        if (claimed > now_ms - window_ms_) {
            verdict.partitions.push_back({partition, group_status::ok, points.back().lag, holder, ""});
            continue;
        }
        auto judged = judge(partition, points, now_ms, holder, members_present);
        if (judged.status == group_status::stall && claimed >= 0) verdict.stalled_members.insert(holder);
        if (judged.status > verdict.status) {
            verdict.status = judged.status;
            verdict.reason = judged.reason;
        }
        verdict.partitions.push_back(std::move(judged));
    }
    if (verdict.reason.empty()) verdict.reason = "commits keep up with the orders";
    return verdict;
}

}  // namespace orderstream::pipeline
