// The processes below a given one, read from /proc: what a stop must reach beyond a child's
// process group (a grandchild that called setsid is in a session of its own).
#pragma once

#include <sys/types.h>

#include <vector>

namespace orderstream::supervision {

struct process_entry {
    pid_t pid = 0, parent = 0, group = 0;
};

// Every process below `root`, parents before their children; empty when there are none or
// /proc cannot be read. A snapshot: processes may come and go while it is taken.
std::vector<process_entry> descendants(pid_t root);

// Whether `pid` runs below `root`, from its chain of parents (a few reads, not a /proc scan).
bool is_below(pid_t pid, pid_t root);

// Sends `signal_number` to every process below `root`, each once, and with `include_root` to
// `root`'s process group too (its members below it then get it from there). The descendants
// are listed first, so a process orphaned by this very signal is still reached.
void signal_tree(pid_t root, int signal_number, bool include_root);

}  // namespace orderstream::supervision
