// See process_tree.hpp.
#include "supervision/process_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace orderstream::supervision {
namespace {

// Parent and process group from /proc/PID/stat: "pid (comm) state ppid pgrp ...". The command
// name may hold spaces and parentheses, so the fields are read after its last ')'.
bool read_entry(pid_t pid, process_entry& entry) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char text[512];
    ssize_t size = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (size <= 0) return false;
    text[size] = '\0';
    const char* end = std::strrchr(text, ')');
    if (!end) return false;
    char state = 0;
    int parent = 0, group = 0;
    if (std::sscanf(end + 1, " %c %d %d", &state, &parent, &group) != 3) return false;
    entry = {pid, parent, group};
    return true;
}

}  // namespace

bool is_below(pid_t pid, pid_t root) {
    process_entry entry;
    // A bounded walk up the parents (a tree deeper than this is not ours to judge).
    for (int depth = 0; depth < 32 && pid > 1 && read_entry(pid, entry); ++depth) {
        if (entry.parent == root) return true;
        pid = entry.parent;
    }
    return false;
}

std::vector<process_entry> descendants(pid_t root) {
    std::multimap<pid_t, process_entry> by_parent;
    if (DIR* proc = ::opendir("/proc")) {
        while (const dirent* item = ::readdir(proc)) {
            char* end = nullptr;
            long pid = std::strtol(item->d_name, &end, 10);
            process_entry entry;
            if (*end == '\0' && pid > 0 && read_entry(static_cast<pid_t>(pid), entry)) by_parent.emplace(entry.parent, entry);
        }
        ::closedir(proc);
    }
    std::vector<process_entry> found;
    std::vector<pid_t> parents{root};
    // A snapshot taken while pids are reused could link in a circle: never list more than it holds.
    while (!parents.empty() && found.size() < by_parent.size()) {
        pid_t parent = parents.back();
        parents.pop_back();
        auto [first, last] = by_parent.equal_range(parent);
        for (auto it = first; it != last; ++it) {
            found.push_back(it->second);
            parents.push_back(it->second.pid);
        }
    }
    return found;
}

void signal_tree(pid_t root, int signal_number, bool include_root) {
    const auto below = descendants(root);
    if (include_root && ::kill(-root, signal_number) != 0) ::kill(root, signal_number);
    for (const auto& entry : below)
        if (!include_root || entry.group != root) ::kill(entry.pid, signal_number);
}

}  // namespace orderstream::supervision
