// The orderstream binary: `run` (the supervisor daemon), `produce` and `consume`.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafkacpp.h>

#include "app/daemon_app.hpp"
#include "config/config_loader.hpp"
#include "kafka/consumer_command.hpp"
#include "kafka/producer_command.hpp"
#include "log/logger.hpp"
#include "orders/order_decoder.hpp"
#include "supervision/reaper.hpp"

namespace {
using namespace orderstream;

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested = true; }

void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

// Children's stdout is a pipe to the supervisor: flush every line so the monitor sees it now.
// Not for the producer, which writes its lines in batches and flushes them itself (at most every
// 50 ms, and when idle): line buffering would split each batch back into a write() per line,
// about 10,000 of them per 100,000 orders.
void set_output_buffering(bool batched_stdout) {
    if (batched_stdout)
        std::setvbuf(stdout, nullptr, _IOFBF, 64 * 1024);
    else
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::setvbuf(stderr, nullptr, _IOLBF, 0);
}

struct kafka_flags {
    std::string bootstrap_servers;
    std::vector<std::string> properties;

    void add_to(CLI::App& command) {
        command.add_option("--bootstrap-servers,-b", bootstrap_servers,
                           "Kafka bootstrap servers, e.g. 127.0.0.1:9092 (default: $" +
                               std::string(kafka::bootstrap_env) + " or " +
                               kafka::default_bootstrap_servers + ")");
        command.add_option("-X,--property", properties,
                           "librdkafka property KEY=VALUE (repeatable; overrides $" +
                               std::string(kafka::properties_env) + ")");
    }

    // The environment the supervisor set first, then the flags.
    kafka::client_options resolve() const {
        kafka::client_options options;
        if (const char* env = std::getenv(kafka::bootstrap_env); env && *env) options.bootstrap_servers = env;
        if (!bootstrap_servers.empty()) options.bootstrap_servers = bootstrap_servers;
        auto add = [&](const std::string& text, const std::string& source) {
            auto equals = text.find('=');
            if (equals == std::string::npos || equals == 0)
                throw CLI::ValidationError(source, "expected KEY=VALUE, got \"" + text + "\"");
            options.properties.emplace_back(text.substr(0, equals), text.substr(equals + 1));
        };
        if (const char* env = std::getenv(kafka::properties_env)) {
            std::istringstream lines(env);
            for (std::string line; std::getline(lines, line);)
                if (!line.empty()) add(line, kafka::properties_env);
        }
        for (const auto& text : properties) add(text, "--property");
        return options;
    }
};

std::string version_text() {
    return std::string("orderstream ") + ORDERSTREAM_VERSION + " (librdkafka " + RdKafka::version_str() + ")";
}

}  // namespace

int main(int argc, char** argv) {
    // Not a user command: the daemon runs each child under it (see supervision/reaper.hpp).
    if (argc > 1 && std::string_view(argv[1]) == supervision::reap_command) return supervision::reaper_main(argc - 2, argv + 2);

    CLI::App app{"orderstream: run and watch an e-commerce order pipeline on Apache Kafka"};
    app.set_version_flag("--version", version_text());
    app.require_subcommand(1);

    // run
    auto* run = app.add_subcommand("run", "Supervise the producer and consumers and serve the web monitor");
    run->set_version_flag("--version", version_text());
    std::string config_path, listen, bootstrap_servers, web_root, log_level = "info";
    run->add_option("--config,-c", config_path, "TOML config file (see config/orderstream.toml)");
    run->add_option("--listen,-l", listen, "HOST:PORT of the web monitor (default 127.0.0.1:8080)");
    run->add_option("--bootstrap-servers,-b", bootstrap_servers,
                    "Use this Kafka cluster instead of the embedded one");
    run->add_option("--web-root", web_root, "Serve the page from this folder (development)");
    run->add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    // produce
    auto* produce = app.add_subcommand("produce", "Send orders to Kafka (the storefront)");
    produce->set_version_flag("--version", version_text());
    kafka::producer_options producer;
    kafka_flags producer_kafka;
    std::int64_t first_order_id = 0;
    produce->add_option("NUM_ORDERS", producer.num_orders, "Orders to send; 0 sends until stopped (default 10)")
        ->check(CLI::NonNegativeNumber);
    produce->add_option("DELAY_SECONDS", producer.delay_seconds, "Seconds between orders (default 2)")
        ->check(CLI::NonNegativeNumber);
    produce->add_option("--topic,-t", producer.topic, "Topic (default orders)");
    produce->add_option("--first-order-id", first_order_id,
                        "First order id (default: after the highest id already in the topic, or 1001)")
        ->check(CLI::PositiveNumber);
    producer_kafka.add_to(*produce);

    // consume
    auto* consume = app.add_subcommand("consume", "Process orders as one department's consumer group");
    consume->set_version_flag("--version", version_text());
    kafka::consumer_options consumer;
    kafka_flags consumer_kafka;
    consume->add_option("GROUP_ID", consumer.group_id, "shipping-group, email-group or analytics-group");
    consume->add_option("TOPIC", consumer.topic, "Topic (default orders)");
    consume->add_option("--dead-letter-topic", consumer.dead_letter_topic, "Where invalid messages go (default orders.dlq)");
    consume->add_option("--acks-topic", consumer.acks_topic,
                        "Where processing records go for the dashboard (default orders.acks; \"\" turns them off)");
    consume->add_option("--max-order-bytes", consumer.max_order_bytes,
                        "Orders larger than this go to the dead-letter topic as too_large (default and most 65536)")
        ->check(CLI::Range(std::size_t{1}, orders::max_order_bytes));
    std::vector<std::int64_t> skip_orders, duplicate_orders;
    consume->add_option("--test-skip-orders", skip_orders,
                        "TEST FAULT, never for real use: store these orders' offsets without processing them (ids, comma-separated)")
        ->delimiter(',');
    consume->add_option("--test-duplicate-orders", duplicate_orders,
                        "TEST FAULT, never for real use: process these orders twice (ids, comma-separated)")
        ->delimiter(',');
    consumer_kafka.add_to(*consume);

    if (argc > 1 && argv[1][0] != '-' && std::string_view(argv[1]) != "run" &&
        std::string_view(argv[1]) != "produce" && std::string_view(argv[1]) != "consume") {
        std::cerr << "orderstream: unknown command \"" << argv[1]
                  << "\"; use run, produce or consume (see --help)\n";
        return 2;
    }
    try {
        app.parse(argc, argv);
        if (*produce) producer.kafka = producer_kafka.resolve();
        if (*consume) {
            consumer.kafka = consumer_kafka.resolve();
            consumer.test_skip_orders.insert(skip_orders.begin(), skip_orders.end());
            consumer.test_duplicate_orders.insert(duplicate_orders.begin(), duplicate_orders.end());
        }
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "orderstream: " << e.what() << "\nRun with --help for usage.\n";
        return 2;
    }

    if (*run) {
        try {
            log::configure(log_level);
            // The file, then the command line's settings over it; again at each reload.
            auto load = [&] {
                auto config = config_path.empty() ? config::daemon_config{} : config::load_config_file(config_path);
                if (!listen.empty()) config::parse_listen(listen, "--listen", config.http);
                if (!bootstrap_servers.empty()) config.kafka.bootstrap_servers = bootstrap_servers;
                if (!web_root.empty()) config.http.web_root = web_root;
                config::finalize(config);
                return config;
            };
            std::function<config::daemon_config()> reload;
            if (!config_path.empty()) reload = load;
            return app::run_daemon(load(), reload);
        } catch (const config::config_error& e) {
            std::cerr << "orderstream: bad configuration: " << e.what() << "\n";
            return 2;
        } catch (const std::exception& e) {
            log::get("main")->critical("{}", e.what());
            return 1;
        }
    }

    set_output_buffering(static_cast<bool>(*produce));
    install_stop_handlers();
    if (*produce) {
        if (first_order_id > 0) producer.first_order_id = first_order_id;
        return kafka::run_producer(producer, stop_requested, std::cout);
    }
    if (consumer.group_id.empty()) {
        std::cout << "Usage: orderstream consume GROUP_ID [TOPIC] [--bootstrap-servers LIST]\n"
                     "Groups:\n"
                     "  shipping-group   prepares orders for shipping\n"
                     "  email-group      sends confirmation emails\n"
                     "  analytics-group  records revenue and item counts\n";
        return 1;
    }
    return kafka::run_consumer(consumer, stop_requested, std::cout);
}
