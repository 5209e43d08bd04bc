// Replays and redrives; see operator_actions.hpp.
#include "app/operator_actions.hpp"

#include <unistd.h>

#include <algorithm>
#include <set>

#include <boost/asio/post.hpp>

#include "http/pipeline_json.hpp"
#include "kafka/dead_letter_redrive.hpp"
#include "kafka/offset_reset.hpp"
#include "log/logger.hpp"

namespace orderstream::app {

using pipeline::action_outcome;
using supervision::process_state;

struct operator_actions::reset_job {
    std::string group;
    pipeline::reset_request request;
    std::function<void(pipeline::reset_result)> done;
    std::vector<std::string> restart;  // copies that ran before, by name
    bool stopped = false;              // they were stopped: start them again, whatever happens
    std::chrono::steady_clock::time_point stop_deadline;
};

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Runs a blocking Kafka call on the worker; an exception (out of memory, say) becomes a failed
// outcome instead of ending the daemon.
template <class Result, class Call>
Result guarded(Call call) {
    try {
        return call();
    } catch (const std::exception& error) {
        Result failed;
        failed.outcome = action_outcome::failed;
        failed.message = std::string("the Kafka call failed: ") + error.what();
        return failed;
    }
}

bool at_rest(process_state state) {
    return state != process_state::starting && state != process_state::running && state != process_state::stopping;
}

}  // namespace

operator_actions::operator_actions(boost::asio::io_context& io, supervision::supervisor& supervisor,
                                   pipeline::pipeline_state& pipeline, operator_scope scope)
    : io_(io),
      supervisor_(supervisor),
      pipeline_(pipeline),
      scope_(std::move(scope)),
      poll_(io),
      worker_guard_(worker_io_.get_executor()),
      worker_([this] { worker_io_.run(); }) {}

operator_actions::~operator_actions() {
    worker_guard_.reset();
    worker_io_.stop();
    worker_.join();
}

std::optional<std::string> operator_actions::busy_reason() const {
    if (running_.empty()) return std::nullopt;
    return "another operator action is in progress (" + running_ + "); try again when it has finished";
}

std::vector<supervision::supervised_process*> operator_actions::copies_of(const std::string& group) {
    std::vector<supervision::supervised_process*> copies;
    for (const auto& copy : supervisor_.processes())
        if (config::consumer_group(copy->config()) == group) copies.push_back(copy.get());
    return copies;
}

std::vector<std::string> operator_actions::foreign_members(const std::string& group) {
    std::vector<std::string> foreign;
    auto stats = pipeline_.groups().find(group);
    if (stats == pipeline_.groups().end() || !stats->second.offsets.described) return foreign;
    std::set<int> ours;
    for (const auto* copy : copies_of(group))
        if (auto pid = copy->pid()) ours.insert(*pid);
    for (const auto& member : stats->second.offsets.members) {
        auto label = http::parse_member_label(member.client_id);
        if (label && label->host == scope_.hostname && ours.count(label->pid)) continue;
        foreign.push_back((member.client_id.empty() ? member.member_id : member.client_id) +
                          (member.host.empty() ? "" : " (" + member.host + ")"));
    }
    return foreign;
}

void operator_actions::reset(const std::string& group, pipeline::reset_request request,
                             std::function<void(pipeline::reset_result)> done) {
    pipeline::reset_result refusal;
    const auto& groups = pipeline_.configured_groups();
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
        refusal.outcome = action_outcome::not_found;
        refusal.message = "the daemon runs no consumer of group \"" + group + "\"";
        return done(std::move(refusal));
    }
    // A dry run changes nothing: it needs no turn, only the worker's.
    if (auto busy = busy_reason(); busy && !request.dry_run) {
        refusal.outcome = action_outcome::conflict;
        refusal.message = *busy;
        return done(std::move(refusal));
    }
    if (auto foreign = foreign_members(group); !foreign.empty()) {
        refusal.outcome = action_outcome::conflict;
        refusal.message = "the group " + group + " has members the daemon does not run; stop them first";
        refusal.members = std::move(foreign);
        return done(std::move(refusal));
    }
    auto job = std::make_shared<reset_job>();
    job->group = group;
    job->request = std::move(request);
    job->done = std::move(done);
    if (!job->request.dry_run) running_ = "reset of " + group;
    for (auto* copy : copies_of(group))
        if (!at_rest(copy->state()) || copy->state() == process_state::backoff) job->restart.push_back(copy->config().name);

    // Planned first, with the consumers still running: a dry run ends there, and a request
    // that cannot be carried out is refused before anything is stopped.
    pipeline::reset_request plan = job->request;
    plan.dry_run = true;
    boost::asio::post(worker_io_, [this, job, plan] {
        auto planned = guarded<pipeline::reset_result>(
            [&] { return kafka::reset_offsets(scope_.kafka, job->group, scope_.topic, plan, {}, scope_.kafka_timeout); });
        boost::asio::post(io_, [this, job, planned = std::move(planned)]() mutable {
            if (job->request.dry_run || planned.outcome != action_outcome::planned) {
                planned.copies = job->restart;
                return finish_reset(job, std::move(planned));
            }
            if (supervisor_.shutting_down()) {
                planned.outcome = action_outcome::conflict;
                planned.message = "the daemon is shutting down; nothing was reset";
                return finish_reset(job, std::move(planned));
            }
            log::get("main")->info("reset of {}: stopping {} consumer(s) of it", job->group, job->restart.size());
            job->stopped = true;
            for (auto* copy : copies_of(job->group))
                if (!at_rest(copy->state()) || copy->state() == process_state::backoff) supervisor_.stop(*copy);
            job->stop_deadline = std::chrono::steady_clock::now() + supervisor_.stop_grace() + std::chrono::seconds(5);
            wait_stopped(job);
        });
    });
}

void operator_actions::wait_stopped(std::shared_ptr<reset_job> job) {
    const auto copies = copies_of(job->group);
    const bool stopped = std::all_of(copies.begin(), copies.end(), [](const auto* copy) { return at_rest(copy->state()); });
    if (stopped) return commit_reset(job);
    if (std::chrono::steady_clock::now() > job->stop_deadline) {
        pipeline::reset_result result;
        result.outcome = action_outcome::conflict;
        result.message = "the consumers of " + job->group + " did not stop in time; nothing was reset";
        return finish_reset(job, std::move(result));
    }
    poll_.expires_after(std::chrono::milliseconds(50));
    poll_.async_wait([this, job](const boost::system::error_code& ec) {
        if (!ec) wait_stopped(job);
    });
}

void operator_actions::commit_reset(std::shared_ptr<reset_job> job) {
    // The marker's id: this daemon, this reset.
    const kafka::reset_marker marker{scope_.acks_topic,
                                     scope_.hostname + "#" + std::to_string(::getpid()) + "/" + job->group + "@" +
                                         std::to_string(now_ms()),
                                     scope_.embedded};
    boost::asio::post(worker_io_, [this, job, marker] {
        // Members that just left may take a moment to be gone from the coordinator's view.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        pipeline::reset_result result;
        for (;;) {
            result = guarded<pipeline::reset_result>([&] {
                return kafka::reset_offsets(scope_.kafka, job->group, scope_.topic, job->request, marker, scope_.kafka_timeout);
            });
            if (result.outcome != action_outcome::conflict || std::chrono::steady_clock::now() > deadline) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        boost::asio::post(io_, [this, job, marker, result = std::move(result)]() mutable {
            if (result.outcome == action_outcome::done) {
                // At once; the marker, read back later, changes nothing more (same id).
                pipeline::offsets_reset_seen reset{job->group, marker.id, {}};
                for (const auto& m : result.moves) reset.moves.push_back({m.partition, m.from, m.to});
                pipeline_.offsets_reset(reset, false);
            } else if (result.outcome == action_outcome::conflict) {
                result.members = foreign_members(job->group);
            }
            finish_reset(job, std::move(result));
        });
    });
}

void operator_actions::finish_reset(std::shared_ptr<reset_job> job, pipeline::reset_result result) {
    if (!job->request.dry_run) running_.clear();
    if (job->stopped) {
        // Started again whatever came of it: a failed reset must not leave the group unserved
        // (start() refuses once the daemon is shutting down).
        for (const auto& name : job->restart)
            if (auto* copy = supervisor_.find(name); copy && at_rest(copy->state())) supervisor_.start(*copy);
    }
    result.copies = job->restart;
    auto logger = log::get("main");
    if (result.outcome == action_outcome::done && !result.message.empty()) logger->warn("reset of {}: {}", job->group, result.message);
    if (result.outcome == action_outcome::done)
        logger->info("reset of {}: {} partition(s) moved, {} order(s) to process again, {} skipped; restarted {}",
                     job->group, result.moves.size(), result.replayed(), result.skipped(), job->restart.size());
    else if (result.outcome != action_outcome::planned)
        logger->warn("reset of {} not done: {}", job->group, result.message);
    job->done(std::move(result));
}

void operator_actions::redrive(pipeline::redrive_request request, std::function<void(pipeline::redrive_result)> done) {
    if (auto busy = busy_reason()) {
        pipeline::redrive_result refusal;
        refusal.outcome = action_outcome::conflict;
        refusal.message = *busy;
        return done(std::move(refusal));
    }
    // "All of reason R": the dead letters the daemon keeps with that reason.
    if (!request.reason.empty()) {
        std::set<std::pair<std::int32_t, std::int64_t>> seen;
        for (const auto& letter : pipeline_.dead_letters())
            if (letter.reason == request.reason && letter.partition >= 0 && seen.insert({letter.partition, letter.offset}).second)
                request.dead_letters.push_back({letter.partition, letter.offset});
        if (request.dead_letters.empty()) {
            pipeline::redrive_result none;
            none.outcome = action_outcome::not_found;
            none.message = "no dead letter with reason \"" + request.reason + "\" is kept (the newest " +
                           std::to_string(pipeline_.limits().max_dead_letters) + " are)";
            return done(std::move(none));
        }
    }
    kafka::redrive_scope scope{scope_.dead_letter_topic, scope_.topic, {}};
    for (const auto& [source, redrive] : pipeline_.redrives()) scope.redriven.insert(source);
    running_ = "redrive of " + std::to_string(request.dead_letters.size()) + " dead letter(s)";
    boost::asio::post(worker_io_, [this, request = std::move(request), scope = std::move(scope), done = std::move(done)] {
        auto result = guarded<pipeline::redrive_result>(
            [&] { return kafka::redrive_dead_letters(scope_.kafka, scope, request, scope_.kafka_timeout); });
        boost::asio::post(io_, [this, result = std::move(result), done = std::move(done)]() mutable {
            running_.clear();
            // Known at once, before the observer reads the records back.
            for (const auto& item : result.items)
                if (item.outcome == "redriven")
                    pipeline_.set_redriven(item.source_partition, item.source_offset,
                                           {now_ms(), item.count, item.partition, item.offset});
            log::get("main")->info("redrive to {}: {}", result.topic, result.message);
            done(std::move(result));
        });
    });
}

}  // namespace orderstream::app
