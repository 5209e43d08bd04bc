// A consumer group's health, judged as Burrow does: from a sliding window of its committed
// offsets and lag, by rules rather than a lag threshold.
//   OK     lag reached zero in the window, or the commits keep up;
//   WARN   the commits move, but the lag never shrank and grew overall (at least 4 readings);
//   STALL  the committed offset does not move while lag is above zero, and the group has
//          members (the one holding the partition is named);
//   STOP   the same, with no member at all (nobody consumes);
//   ERR    the group's offsets cannot be read, or one of its consumers the daemon runs is gone
//          (crashed, restarting, FATAL).
// A group takes the worst status of its partitions. Readings that stopped coming (the offsets
// cannot be read) are not judged: the group is ERR then, and no copy is named stalled.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/pipeline_events.hpp"

namespace orderstream::pipeline {

enum class group_status { ok, warn, stall, stop, err };  // in order of severity
std::string_view to_string(group_status status);

// A consumer of the group that the daemon runs, as its supervisor sees it.
struct local_member {
    std::string name;                 // the copy, e.g. "shipping-2"
    bool alive = false;               // has a running child
    std::string gone;                 // its state when it crashed or gave up ("BACKOFF", "FATAL"), else empty
    std::vector<int> partitions;         // what the child last said it holds
    std::vector<std::int64_t> claimed_ms;  // when it first said so, per partition (wall clock ms);
                                           // a partition claimed less than a window ago is not
                                           // judged against its new holder
};

struct partition_verdict {
    std::int32_t partition = 0;
    group_status status = group_status::ok;
    std::int64_t lag = -1;
    std::string holder;  // the member holding it, if known
    std::string reason;
};

struct group_verdict {
    group_status status = group_status::ok;
    std::string reason;  // why, in a sentence
    std::vector<partition_verdict> partitions;
    std::set<std::string> stalled_members;  // local members holding a STALL partition
};

class group_health {
public:
    explicit group_health(std::int64_t window_ms) : window_ms_(window_ms) {}

    // One reading of the group's offsets (a tick's); older readings than the window go.
    void sample(std::int64_t now_ms, const std::vector<group_partition>& partitions);
    // `readable`: the offsets were read within the window. `described`: members as the cluster
    // lists them (empty when it does not say).
    group_verdict evaluate(std::int64_t now_ms, bool readable, const std::vector<local_member>& members,
                           const std::vector<group_member>& described) const;
    std::int64_t window_ms() const { return window_ms_; }

private:
    struct point {
        std::int64_t t_ms, committed, lag;
    };
    partition_verdict judge(std::int32_t partition, const std::deque<point>& points, std::int64_t now_ms,
                            const std::string& holder, bool members_present) const;

    std::int64_t window_ms_;
    std::map<std::int32_t, std::deque<point>> points_;
};

}  // namespace orderstream::pipeline
