// `orderstream run`; see daemon_app.hpp.
#include "app/daemon_app.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <map>
#include <set>
#include <filesystem>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/operator_actions.hpp"
#include "app/systemd_notifier.hpp"
#include "capture/output_store.hpp"
#include "http/listener.hpp"
#include "http/pipeline_json.hpp"
#include "http/router.hpp"
#include "http/stream_hub.hpp"
#include "kafka/client_options.hpp"
#include "kafka/broker_control.hpp"
#include "kafka/embedded_cluster.hpp"
#include "kafka/pipeline_observer.hpp"
#include "kafka/ready_notice.hpp"
#include "log/logger.hpp"
#include "pipeline/pipeline_state.hpp"
#include "capture/log_files.hpp"
#include "supervision/notify_socket.hpp"
#include "supervision/supervisor.hpp"

namespace orderstream::app {
namespace {

std::chrono::milliseconds millis(double seconds) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The consumer groups the configured processes run, to watch their lag.
std::vector<std::string> consumer_groups(const std::vector<config::process_config>& processes) {
    std::vector<std::string> groups;
    for (const auto& process : processes)
        if (auto positionals = config::consume_positionals(process); !positionals.empty()) groups.push_back(positionals[0]);
    return groups;
}

// The topic those consumers read: the one the dashboard watches.
std::string watched_topic(const std::vector<config::process_config>& processes) {
    for (const auto& process : processes)
        if (auto positionals = config::consume_positionals(process); positionals.size() >= 2) return positionals[1];
    return kafka::orders_topic;
}

// Raises the open-file soft limit to the hard limit (connections, child pipes and Kafka sockets
// all take descriptors); returns the soft limit in force.
std::uint64_t raise_open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? 1u << 20 : static_cast<std::uint64_t>(limit.rlim_cur);
}

// Half the descriptors for connections, the rest for children and Kafka.
std::size_t connection_cap(std::uint64_t open_files) {
    return static_cast<std::size_t>(std::clamp<std::uint64_t>(open_files / 2, 16, 10000));
}

// The daemon's consumers of each group, for its health: which copy holds which partition, and
// which crashed.
std::map<std::string, std::vector<pipeline::local_member>> local_members(const supervision::supervisor& supervisor) {
    std::map<std::string, std::vector<pipeline::local_member>> members;
    using supervision::process_state;
    for (const auto& copy : supervisor.processes()) {
        auto group = config::consumer_group(copy->config());
        if (group.empty()) continue;
        const auto state = copy->state();
        pipeline::local_member member;
        member.name = copy->config().name;
        member.alive = state == process_state::starting || state == process_state::running;
        if (state == process_state::backoff || state == process_state::fatal || state == process_state::exited)
            member.gone = std::string(supervision::to_string(state));
        member.partitions = copy->partitions();
        member.claimed_ms = copy->claimed_ms();
        members[group].push_back(std::move(member));
    }
    return members;
}

std::string join_properties(const std::vector<std::pair<std::string, std::string>>& properties) {
    std::string text;
    for (const auto& [key, value] : properties) text += key + "=" + value + "\n";
    return text;
}

}  // namespace

int run_daemon(const config::daemon_config& config, std::function<config::daemon_config()> reload_config) {
    auto logger = log::get("main");
    boost::asio::io_context io;

    // Kafka first: children need its address, and a bad cluster setting should stop us early.
    std::unique_ptr<kafka::embedded_cluster> embedded;
    kafka::client_options kafka_options;
    kafka_options.properties = config.kafka.properties;
    if (config.kafka.bootstrap_servers.empty()) {
        embedded = kafka::embedded_cluster::start(config.kafka.embedded_brokers);
        kafka_options.bootstrap_servers = embedded->bootstrap_servers();
        auto defaults = kafka::embedded_client_defaults();
        kafka_options.properties.insert(kafka_options.properties.begin(), defaults.begin(), defaults.end());
        log::get("kafka")->info("embedded {}-broker cluster at {}", config.kafka.embedded_brokers,
                                kafka_options.bootstrap_servers);
    } else {
        kafka_options.bootstrap_servers = config.kafka.bootstrap_servers;  // topics: see the observer
    }

    std::vector<std::string> terminals;
    for (const auto& process : config.processes) terminals.push_back(process.terminal);
    capture::output_store store(terminals, config.capture.ring_lines);
    // Output on disk, and the last lines of the previous run back in the rings.
    std::unique_ptr<capture::log_files> files;
    if (!config.capture.log_dir.empty()) {
        capture::log_file_options file_options;
        file_options.dir = config.capture.log_dir;
        file_options.max_bytes = config.capture.log_max_bytes;
        file_options.backups = config.capture.log_backups;
        files = std::make_unique<capture::log_files>(std::move(file_options));
        store.set_log(files.get());
        std::size_t restored = 0;
        for (std::size_t i = 0; i < store.terminals().size(); ++i)
            restored += store.restore(i, "── orderstream restarted: the lines above are from its previous run ──");
        logger->info("output kept in {} ({} lines of the previous run restored)", config.capture.log_dir, restored);
    }

    // Children say on this socket when they are ready and which partitions they hold.
    std::function<void(const supervision::notice&)> on_notice;
    supervision::notify_socket notices(io, [&on_notice](const supervision::notice& received) { on_notice(received); });
    supervision::supervisor_options options;
    options.self_executable = std::filesystem::read_symlink("/proc/self/exe").string();
    options.child_environment = {{kafka::bootstrap_env, kafka_options.bootstrap_servers},
                                 {kafka::properties_env, join_properties(kafka_options.properties)},
                                 {kafka::notify_socket_env, notices.path()}};
    options.max_line_bytes = config.capture.max_line_bytes;
    options.stop_grace = millis(config.supervisor.stop_grace_seconds);
    supervision::supervisor supervisor(io, config.processes, store, options);
    on_notice = [&supervisor](const supervision::notice& received) { supervisor.notice(received); };

    http::router router(store, supervisor, config.http.web_root);
    http::audit_log audit(config.audit.file);
    router.set_audit_log(&audit);
    if (files) {
        router.set_log_files(files.get());
        router.add_metrics_source([&files](http::prometheus_writer& out) {
            out.family("orderstream_log_file_lines_dropped_total", "counter",
                       "Lines that did not reach their terminal's file (queue full or disk full); the rings have them");
            out.sample("orderstream_log_file_lines_dropped_total", static_cast<double>(files->dropped()));
        });
    }
    http::stream_hub hub(io, store, std::chrono::milliseconds(config.http.stream_coalesce_ms));
    store.on_change([&hub] { hub.changed(); });
    router.set_stream_hub(&hub);

    // The Kafka view: a thread reads the topics and metadata, the loop owns the state.
    pipeline::state_limits pipeline_limits;
    pipeline_limits.health_window_ms = static_cast<std::int64_t>(config.supervisor.health_window_seconds * 1000);
    pipeline::pipeline_state pipeline(consumer_groups(config.processes), embedded != nullptr, pipeline_limits);
    router.set_pipeline(&pipeline);
    std::optional<kafka::broker_control> brokers;
    if (embedded) {
        brokers.emplace(embedded->mock(), embedded->broker_count());
        router.set_broker_switch([&](int broker, bool up) {
            auto failure = brokers->set_up(broker, up, pipeline.partitions());
            pipeline.set_brokers_down({brokers->down().begin(), brokers->down().end()});
            return failure;
        });
    }
    kafka::observer_options observing;
    observing.kafka = kafka_options;
    observing.topic = watched_topic(config.processes);
    observing.groups = consumer_groups(config.processes);
    observing.create_topics = embedded == nullptr;
    observing.topic_replication = config.kafka.topic_replication;
    observing.describe_groups = embedded == nullptr;
    observing.replay_orders = pipeline.limits().max_traces;
    operator_scope scope;
    scope.kafka = kafka_options;
    scope.topic = observing.topic;
    scope.dead_letter_topic = kafka::dead_letter_topic;
    scope.acks_topic = kafka::acks_topic;
    scope.hostname = http::own_hostname();
    scope.embedded = embedded != nullptr;
    operator_actions actions(io, supervisor, pipeline, std::move(scope));
    router.set_operator_actions(
        [&actions](const std::string& group, pipeline::reset_request request, std::function<void(pipeline::reset_result)> done) {
            actions.reset(group, std::move(request), std::move(done));
        },
        [&actions](pipeline::redrive_request request, std::function<void(pipeline::redrive_result)> done) {
            actions.redrive(std::move(request), std::move(done));
        });
    kafka::pipeline_observer observer(std::move(observing), [&io, &pipeline](pipeline::observation report) {
                                          boost::asio::post(io, [&pipeline, report = std::move(report)]() mutable {
                                              pipeline.apply(std::move(report));
                                          });
                                      });
    boost::asio::steady_timer tick(io);
    std::function<void()> do_tick = [&] {
        tick.expires_after(std::chrono::seconds(1));
        tick.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            // The groups' health from their commits and our copies; stalled copies may restart.
            pipeline.set_local_members(local_members(supervisor));
            pipeline.tick(now_ms());
            std::set<std::string> stalled;
            for (const auto& group : pipeline.configured_groups())
                if (const auto* health = pipeline.health(group))
                    stalled.insert(health->stalled_members.begin(), health->stalled_members.end());
            supervisor.check_stalls(stalled, std::chrono::steady_clock::now());
            hub.set_metrics(http::live_json(pipeline));
            do_tick();
        });
    };
    do_tick();
    const std::uint64_t open_files = raise_open_file_limit();
    const std::size_t max_connections = config.http.max_connections > 0 ? config.http.max_connections
                                                                         : connection_cap(open_files);
    http::session_limits limits{config.http.max_header_bytes, config.http.max_body_bytes,
                                millis(config.http.header_timeout_seconds), millis(config.http.read_timeout_seconds),
                                max_connections - std::max<std::size_t>(1, max_connections / 10)};
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(config.http.host),
                                            config.http.port);
    std::shared_ptr<http::listener> listener;
    try {
        listener = std::make_shared<http::listener>(io, endpoint, router, limits, max_connections);
    } catch (const boost::system::system_error& error) {
        throw std::runtime_error("cannot listen on " + config.http.host + ":" +
                                 std::to_string(config.http.port) + ": " + error.code().message() +
                                 " (choose another address with --listen or http.listen)");
    }
    auto bound = listener->local_endpoint();
    router.set_access_policy(http::access_policy(
        config.http.token, http::own_hosts_for(config.http.host, bound.port(), config.http.allowed_hosts)));
    listener->run();
    logger->info("at most {} connections ({} of them stream clients)", max_connections, limits.max_streams);
    logger->info("web monitor listening on http://{}:{}/",
                 bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                         : bound.address().to_string(),
                 bound.port());

    auto running_count = [&] {
        std::size_t running = 0;
        for (const auto& process : supervisor.processes())
            running += process->state() == supervision::process_state::running;
        return running;
    };
    systemd_notifier notifier(io, [&] {
        char rate[32];
        std::snprintf(rate, sizeof rate, "%.0f", pipeline.orders_per_second());
        return std::to_string(running_count()) + "/" + std::to_string(supervisor.processes().size()) +
               " children running; " + rate + " orders/s; total lag " + std::to_string(pipeline.total_lag()) +
               (!pipeline.cluster_seen()        ? ""
                : !pipeline.cluster_reachable() ? "; Kafka unreachable"
                : pipeline.cluster_waiting()    ? "; waiting for Kafka brokers"
                                                : "");
    });
    // After any state change, and after a reload changed the list.
    auto publish_processes = [&] {
        notifier.update(running_count() == supervisor.processes().size());
        hub.set_processes(http::processes_json(supervisor));
    };
    supervisor.on_state_change([&](const supervision::supervised_process&, supervision::process_state) { publish_processes(); });
    supervisor.on_list_change(publish_processes);

    // Like supervisord's `update`: only [[processes]] is applied; the other sections (listen
    // address, Kafka, capture) take effect at the next start, and the watched consumer groups
    // stay those of the start.
    std::function<supervision::update_result()> reload;
    if (reload_config)
        reload = [&] {
            auto fresh = reload_config();
            auto changes = supervisor.update(fresh.processes);
            auto names = [](const std::vector<std::string>& list) {
                std::string text;
                for (const auto& name : list) text += (text.empty() ? "" : ", ") + name;
                return text.empty() ? std::string("none") : text;
            };
            logger->info("config reloaded: added {}; removed {}; changed {}; {} unchanged (other sections apply at "
                         "the next start)",
                         names(changes.added), names(changes.removed), names(changes.changed), changes.unchanged.size());
            return changes;
        };
    router.set_reloader(reload);
    notifier.start();

    ::signal(SIGPIPE, SIG_IGN);
    // A file-size limit (systemd's LimitFSIZE, ulimit -f) must fail a write, not kill the daemon.
    ::signal(SIGXFSZ, SIG_IGN);
    // SIGHUP too: a closed terminal or SSH session must not take the daemon and its children down.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    bool stopping = false;
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int number) {
            if (ec) return;
            if (number == SIGHUP) {
                if (!reload) {
                    logger->warn("received SIGHUP: the daemon was started without a config file; nothing to reload");
                } else if (stopping) {
                    logger->warn("received SIGHUP while shutting down; not reloading");
                } else {
                    logger->info("received SIGHUP: reloading the config");
                    try {
                        reload();
                    } catch (const std::exception& error) {
                        logger->error("the config was not reloaded: {}; running as before", error.what());
                    }
                }
            } else if (!stopping) {
                stopping = true;
                notifier.stopping();
                observer.stop();
                logger->info("received {}; stopping children (grace {} s)", strsignal(number),
                             config.supervisor.stop_grace_seconds);
                supervisor.stop_all([&] {
                    logger->info("all children stopped; exiting");
                    listener->stop();
                    notices.close();
                    tick.cancel();
                    io.stop();
                });
            } else {
                logger->info("received {} again; still waiting for children (SIGKILL follows the grace period)",
                             strsignal(number));
            }
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);

    supervisor.start_all();
    observer.start();
    io.run();
    return 0;
}

}  // namespace orderstream::app
