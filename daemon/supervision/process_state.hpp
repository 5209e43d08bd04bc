// The states of a supervised process, after supervisord's (supervisor/states.py).
#pragma once

#include <string_view>

namespace orderstream::supervision {

enum class process_state { stopped, starting, running, backoff, stopping, exited, fatal };

constexpr std::string_view to_string(process_state state) {
    switch (state) {
        case process_state::stopped: return "STOPPED";
        case process_state::starting: return "STARTING";
        case process_state::running: return "RUNNING";
        case process_state::backoff: return "BACKOFF";
        case process_state::stopping: return "STOPPING";
        case process_state::exited: return "EXITED";
        case process_state::fatal: return "FATAL";
    }
    return "UNKNOWN";
}

// A process in one of these states has no child and will not get one without a start().
constexpr bool is_at_rest(process_state state) {
    return state == process_state::stopped || state == process_state::exited ||
           state == process_state::fatal;
}

}  // namespace orderstream::supervision
