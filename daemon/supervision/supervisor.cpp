// Starting, routing, scaling and stopping all supervised processes; see supervisor.hpp.
#include "supervision/supervisor.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "log/logger.hpp"

namespace orderstream::supervision {
namespace {

std::string join(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
    return text;
}

// Every setting but the number of copies.
bool same_but_instances(config::process_config a, config::process_config b) {
    a.instances = b.instances = 1;
    return a == b;
}

}  // namespace

supervisor::supervisor(boost::asio::io_context& io,
                       const std::vector<config::process_config>& processes,
                       capture::output_store& store, supervisor_options options,
                       std::shared_ptr<system_calls> calls)
    : io_(io), calls_(calls ? std::move(calls) : real_system_calls(io)), store_(store), options_(std::move(options)) {
    for (const auto& process : processes)
        if (!store.find(process.terminal)) throw std::invalid_argument("no terminal \"" + process.terminal + "\"");
    for (const auto& process : processes) {
        programs_.push_back({process, process.instances, std::make_shared<int>(process.instances)});
        for (int i = 1; i <= process.instances; ++i) processes_.push_back(make_process(programs_.back(), i));
    }
}

std::unique_ptr<supervised_process> supervisor::make_process(const program& owner, int instance) {
    auto copy = owner.config;
    copy.name = config::instance_name(owner.config.name, instance);
    spawn_request request;
    request.command = copy.command.empty() ? options_.self_executable : copy.command;
    request.args = copy.args;
    request.reaper = options_.self_executable;
    request.environment = options_.child_environment;
    request.environment.emplace_back("ORDERSTREAM_PROCESS_NAME", copy.name);
    request.max_line_bytes = options_.max_line_bytes;
    // While a process runs several copies, each line says which copy printed it.
    auto on_line = [&store = store_, index = store_.find_or_add(copy.terminal), copies = owner.copies,
                    tag = copy.name + " | ", tagged = std::string()](std::string_view line) mutable {
        if (*copies <= 1) {
            store.append(index, line);
            return;
        }
        tagged.assign(tag).append(line);
        store.append(index, tagged);
    };
    return std::make_unique<supervised_process>(
        *calls_, std::move(copy), owner.config.name, instance, std::move(request), std::move(on_line),
        [this](const supervised_process& p, process_state from) { state_changed(p, from); });
}

supervisor::program* supervisor::find_program(std::string_view name) {
    for (auto& p : programs_)
        if (p.config.name == name) return &p;
    return nullptr;
}

int supervisor::instances(std::string_view name) const {
    for (const auto& p : programs_)
        if (p.config.name == name) return p.instances;
    return 0;
}

void supervisor::add_copy(program& owner, int instance) {
    const auto name = config::instance_name(owner.config.name, instance);
    if (auto* existing = find(name)) {
        // Still stopping after a scale-down or a removal: it stays after all, as it is if its
        // settings are the same, else replaced by a copy with the new ones once it stopped.
        auto retiring = retiring_.find(name);
        if (retiring != retiring_.end() && !retiring->second) {
            auto wanted = owner.config;
            wanted.name = name;
            if (existing->config() == wanted && existing->program() == owner.config.name) {
                retiring_.erase(retiring);
                if (started_) start_when_ready(*existing);
            } else {
                retiring->second = successor{owner.config, instance};
            }
        }
        return;
    }
    // Next to the other copies of its process.
    auto last = std::find_if(processes_.rbegin(), processes_.rend(),
                             [&](const auto& p) { return p->program() == owner.config.name; });
    auto at = processes_.insert(last == processes_.rend() ? processes_.end() : last.base(), make_process(owner, instance));
    recount(owner);
    if (started_) start_when_ready(**at);
}

void supervisor::recount(program& owner) {
    *owner.copies = static_cast<int>(std::count_if(processes_.begin(), processes_.end(),
                                                   [&](const auto& p) { return p->program() == owner.config.name; }));
}

void supervisor::resize(program& owner, int instances) {
    const int before = owner.instances;
    owner.instances = instances;
    for (int i = before + 1; i <= instances; ++i) add_copy(owner, i);
    for (int i = instances + 1; i <= before; ++i)
        if (auto* copy = find(config::instance_name(owner.config.name, i))) retire_when_stopped(*copy, std::nullopt);
}

std::optional<std::string> supervisor::scale(std::string_view name, int instances) {
    auto* owner = find_program(name);
    if (!owner) {
        auto* copy = find(name);
        return copy ? "\"" + std::string(name) + "\" is a copy; scale its process \"" + copy->program() + "\""
                    : "unknown process \"" + std::string(name) + "\"";
    }
    if (instances < 1 || instances > config::max_instances)
        return "instances must be between 1 and " + std::to_string(config::max_instances);
    if (shutting_down_) return std::string("the daemon is shutting down; nothing can be started");
    if (instances != owner->instances)
        log::get("supervisor")->info("{}: scaling from {} to {} copies", owner->config.name, owner->instances, instances);
    resize(*owner, instances);
    if (list_listener_) list_listener_();
    return std::nullopt;
}

update_result supervisor::update(const std::vector<config::process_config>& processes) {
    // First the new list of processes, so that every change announced while it is applied
    // (each stop and start is) already shows it; then the stops, starts and replacements.
    update_result result;
    struct change {
        std::string name;
        int instances;
        bool settings;  // changed other than in the count: the copies are replaced
    };
    std::vector<program> next;
    std::vector<change> changes;
    for (const auto& current : programs_) {
        auto found = std::find_if(processes.begin(), processes.end(),
                                  [&](const auto& p) { return p.name == current.config.name; });
        if (found == processes.end()) {
            result.removed.push_back(current.config.name);
            continue;
        }
        // A count changed in the file is applied; one set through scale() otherwise stays.
        const int instances = found->instances != current.config.instances ? found->instances : current.instances;
        const bool settings = !same_but_instances(current.config, *found);
        (settings || instances != current.instances ? result.changed : result.unchanged).push_back(current.config.name);
        next.push_back(current);
        next.back().config = *found;
        changes.push_back({found->name, instances, settings});
    }
    for (const auto& process : processes) {
        if (find_program(process.name)) continue;
        result.added.push_back(process.name);
        next.push_back({process, 0, std::make_shared<int>(0)});
        changes.push_back({process.name, process.instances, false});
    }
    programs_ = std::move(next);

    for (const auto& name : result.removed)
        for (auto& copy : processes_)
            if (copy->program() == name) retire_when_stopped(*copy, std::nullopt);
    for (const auto& change : changes) {
        auto* owner = find_program(change.name);
        if (change.settings)
            for (auto& copy : processes_)
                if (copy->program() == change.name && copy->instance() <= change.instances)
                    retire_when_stopped(*copy, successor{owner->config, copy->instance()});
        resize(*owner, change.instances);
    }
    if (list_listener_) list_listener_();
    return result;
}

void supervisor::retire_when_stopped(supervised_process& copy, std::optional<successor> next) {
    const auto name = copy.config().name;
    retiring_[name] = std::move(next);
    waiting_.erase(name);
    copy.stop(options_.stop_grace);
    if (is_at_rest(copy.state())) boost::asio::post(io_, [this, name] { retire(name); });
}

void supervisor::retire(const std::string& name) {
    auto retiring = retiring_.find(name);
    if (retiring == retiring_.end()) return;
    auto it = std::find_if(processes_.begin(), processes_.end(),
                           [&](const auto& p) { return p->config().name == name; });
    if (it == processes_.end() || !is_at_rest((*it)->state())) return;
    auto next = std::move(retiring->second);
    retiring_.erase(retiring);
    auto logger = log::get("supervisor");
    if (!next) {
        logger->info("{}: removed", name);
        auto* owner = find_program((*it)->program());
        processes_.erase(it);
        if (owner) recount(*owner);
        if (list_listener_) list_listener_();
        return;
    }
    logger->info("{}: starting again with its reloaded settings", name);
    auto* owner = find_program(next->config.name);
    program fallback{next->config, next->instance, std::make_shared<int>(next->instance)};
    *it = make_process(owner ? *owner : fallback, next->instance);
    if (!shutting_down_) start_when_ready(**it);
    if (list_listener_) list_listener_();
}

void supervisor::start_all() {
    started_ = true;
    for (auto& process : processes_) start_when_ready(*process);
}

std::optional<std::string> supervisor::dependencies_block(const config::process_config& config, bool& failed) const {
    std::vector<std::string> waiting, fatal;
    for (const auto& dependency : config.depends_on) {
        bool ready = true, any = false;
        for (const auto& copy : processes_) {
            if (copy->program() != dependency || retiring_.count(copy->config().name)) continue;
            any = true;
            if (copy->state() == process_state::fatal) fatal.push_back(copy->config().name);
            ready = ready && copy->ready();
        }
        if (!any || !ready) waiting.push_back(dependency);
    }
    failed = !fatal.empty();
    if (failed) return "not started: " + join(fatal) + (fatal.size() > 1 ? " are" : " is") + " FATAL";
    if (!waiting.empty()) return "waiting for " + join(waiting) + " to be ready";
    return std::nullopt;
}

void supervisor::start_when_ready(supervised_process& copy) {
    bool failed = false;
    if (auto block = dependencies_block(copy.config(), failed)) {
        // Checked again at every change: a FATAL dependency started by hand may yet be ready.
        waiting_.insert(copy.config().name);
        if (copy.held() != *block) log::get("supervisor")->info("{}: {}", copy.config().name, *block);
        copy.set_held(*block);
        if (listener_) listener_(copy, copy.state());
        return;
    }
    copy.start();
}

// After any change of state: starts the copies whose dependencies became ready, and gives up
// on those whose dependency went FATAL.
void supervisor::release_held() {
    if (shutting_down_) return;
    const auto names = waiting_;
    for (const auto& name : names) {
        auto* copy = find(name);
        waiting_.erase(name);
        if (!copy || !is_at_rest(copy->state()) || copy->held().empty()) continue;  // started by hand meanwhile
        start_when_ready(*copy);
    }
}

std::optional<std::string> supervisor::start(supervised_process& copy) {
    if (shutting_down_) return "the daemon is shutting down; nothing starts any more";
    if (retiring_.count(copy.config().name))
        return copy.config().name + " is being removed or replaced (a scale-down or a reload); it cannot start";
    waiting_.erase(copy.config().name);
    copy.set_held("");
    copy.start();
    return std::nullopt;
}

void supervisor::stop(supervised_process& copy) {
    waiting_.erase(copy.config().name);
    if (!copy.held().empty()) {
        copy.set_held("");
        if (listener_) listener_(copy, copy.state());
    }
    copy.stop(options_.stop_grace);
}

std::optional<std::string> supervisor::restart(supervised_process& copy) {
    if (retiring_.count(copy.config().name))
        return copy.config().name + " is being removed or replaced (a scale-down or a reload); it cannot restart";
    waiting_.erase(copy.config().name);
    copy.set_held("");
    copy.restart(options_.stop_grace);
    return std::nullopt;
}

void supervisor::notice(const struct notice& received) {
    if (!received.ready && !received.has_partitions) return;
    // The command itself first (no system call); then whatever runs below a copy.
    supervised_process* sender = nullptr;
    for (auto& copy : processes_)
        if (copy->pid() == received.pid) sender = copy.get();
    for (auto it = processes_.begin(); !sender && it != processes_.end(); ++it)
        if ((*it)->owns(received.pid)) sender = it->get();
    if (sender) sender->notice(received.ready, received.has_partitions ? received.partitions : sender->partitions());
}

void supervisor::check_stalls(const std::set<std::string>& stalled, std::chrono::steady_clock::time_point now) {
    for (auto& copy : processes_) {
        const auto since = copy->set_stalled(stalled.count(copy->config().name) > 0, now);
        const double limit = copy->config().restart_when_stalled_seconds;
        if (limit <= 0 || !copy->stalled() || shutting_down_ || retiring_.count(copy->config().name)) continue;
        if (std::chrono::duration<double>(since).count() < limit) continue;
        log::get("supervisor")->warn("{}: its partitions have been stalled for {:.0f} s while it runs; restarting it",
                                     copy->config().name, std::chrono::duration<double>(since).count());
        copy->restart(options_.stop_grace, "stalled");
    }
}

void supervisor::stop_all(std::function<void()> on_stopped) {
    on_stopped_ = std::move(on_stopped);
    shutting_down_ = true;
    waiting_.clear();
    for (auto& process : processes_) process->stop(options_.stop_grace);
    check_all_stopped();
}

supervised_process* supervisor::find(std::string_view name) {
    for (auto& process : processes_)
        if (process->config().name == name) return process.get();
    return nullptr;
}

void supervisor::state_changed(const supervised_process& process, process_state from) {
    auto logger = log::get("supervisor");
    auto to = process.state();
    if (to == from) {  // no change of state: the command's pid, or its readiness, became known
    } else if (to == process_state::backoff) {
        logger->warn("{}: {} -> {} ({}); next start in {} ms", process.config().name,
                     to_string(from), to_string(to), process.last_exit().value_or("?"),
                     process.next_backoff().count());
    } else if (to == process_state::fatal || to == process_state::exited) {
        // A process that ended by itself with exit code 0 did its job (e.g. a producer of N orders).
        bool clean = to == process_state::exited && process.last_exit() == "exit code 0";
        logger->log(clean ? spdlog::level::info : spdlog::level::err, "{}: {} -> {} ({})", process.config().name,
                    to_string(from), to_string(to), process.last_exit().value_or("?"));
    } else {
        logger->info("{}: {} -> {}{}", process.config().name, to_string(from), to_string(to),
                     process.pid() ? " (pid " + std::to_string(*process.pid()) + ")" : "");
    }
    if (listener_) listener_(process, from);
    if (retiring_.count(process.config().name) && is_at_rest(to))
        boost::asio::post(io_, [this, name = process.config().name] { retire(name); });
    if (!waiting_.empty()) boost::asio::post(io_, [this] { release_held(); });
    if (on_stopped_) check_all_stopped();
}

void supervisor::check_all_stopped() {
    if (!on_stopped_) return;
    for (auto& process : processes_)
        if (!is_at_rest(process->state())) return;
    // Posted, so the caller of the last state change finishes before shutdown goes on.
    boost::asio::post(io_, std::move(on_stopped_));
    on_stopped_ = nullptr;
}

}  // namespace orderstream::supervision
