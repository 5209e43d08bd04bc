// Config files load into the documented defaults, and every mistake names its key.
#include <catch2/catch.hpp>

#include <fstream>

#include "config/config_loader.hpp"
#include "support/daemon_process.hpp"

using namespace orderstream::config;

namespace {
std::string error_of(const std::string& toml) {
    try {
        auto config = parse_config(toml, "test.toml");
        finalize(config);
    } catch (const config_error& error) {
        return error.what();
    }
    return "";
}
}  // namespace

TEST_CASE("an empty config gives the defaults and the four default processes") {
    auto config = parse_config("");
    finalize(config);
    CHECK(config.http.host == "127.0.0.1");
    CHECK(config.http.port == 8080);
    CHECK(config.capture.ring_lines == 1000);
    CHECK(config.kafka.bootstrap_servers.empty());
    REQUIRE(config.processes.size() == 4);
    CHECK(config.processes[0].terminal == "producer");
    CHECK(config.processes[0].args == std::vector<std::string>{"produce", "0", "1"});
    CHECK(config.processes[1].args == std::vector<std::string>{"consume", "shipping-group"});
    CHECK(config.processes[3].terminal == "analytics");
}

TEST_CASE("the shipped config/orderstream.toml loads and matches the defaults") {
    auto config = load_config_file(ORDERSTREAM_SOURCE_DIR "/config/orderstream.toml");
    finalize(config);
    daemon_config defaults;
    finalize(defaults);
    CHECK(config.http.port == defaults.http.port);
    CHECK(config.http.max_header_bytes == defaults.http.max_header_bytes);
    CHECK(config.http.stream_coalesce_ms == defaults.http.stream_coalesce_ms);
    CHECK(config.kafka.topic_replication == defaults.kafka.topic_replication);
    CHECK(config.capture.max_line_bytes == defaults.capture.max_line_bytes);
    CHECK(config.capture.log_dir == "logs");  // output kept on disk, unlike the bare defaults
    CHECK(config.capture.log_max_bytes == defaults.capture.log_max_bytes);
    CHECK(config.capture.log_backups == defaults.capture.log_backups);
    CHECK(config.supervisor.stop_grace_seconds == defaults.supervisor.stop_grace_seconds);
    CHECK(config.processes.size() == 4);
}

TEST_CASE("settings and processes are read") {
    auto config = parse_config(R"(
[http]
listen = "0.0.0.0:9000"
token = "a-long-enough-secret-token"
stream_coalesce_ms = 100
[capture]
ring_lines = 50
[kafka]
bootstrap_servers = "a:9092,b:9092"
topic_replication = 1
[kafka.properties]
"security.protocol" = "SASL_SSL"
[[processes]]
name = "audit"
command = "python3"
args = ["audit.py", "--fast"]
backoff_initial_seconds = 0.5
max_quick_failures = 2
)");
    finalize(config);
    CHECK(config.http.host == "0.0.0.0");
    CHECK(config.http.port == 9000);
    CHECK(config.http.stream_coalesce_ms == 100);
    CHECK(config.capture.ring_lines == 50);
    CHECK(config.kafka.topic_replication == 1);
    CHECK(config.kafka.properties ==
          std::vector<std::pair<std::string, std::string>>{{"security.protocol", "SASL_SSL"}});
    REQUIRE(config.processes.size() == 1);
    CHECK(config.processes[0].terminal == "audit");
    CHECK(config.processes[0].command == "python3");
    CHECK(config.processes[0].restart.backoff_initial_seconds == 0.5);
    CHECK(config.processes[0].restart.max_quick_failures == 2);
}

TEST_CASE("every invalid value is an error that names its key") {
    CHECK_THAT(error_of("[http]\nlisten = \"127.0.0.1:70000\""), Catch::Contains("http.listen"));
    CHECK_THAT(error_of("[http]\nlisten = \"nocolon\""), Catch::Contains("http.listen"));
    CHECK_THAT(error_of("[http]\nlisten = 8080"), Catch::Contains("http.listen: must be a string"));
    CHECK_THAT(error_of("[http]\nlisen = \"x\""), Catch::Contains("http.lisen: unknown key"));
    CHECK_THAT(error_of("colour = 1"), Catch::Contains("colour: unknown key"));
    CHECK_THAT(error_of("[capture]\nring_lines = 0"), Catch::Contains("capture.ring_lines"));
    CHECK_THAT(error_of("[http]\nstream_coalesce_ms = 0"), Catch::Contains("http.stream_coalesce_ms"));
    CHECK_THAT(error_of("[http]\nstream_coalesce_ms = 1001"), Catch::Contains("http.stream_coalesce_ms"));
    CHECK_THAT(error_of("[capture]\nring_lines = \"many\""), Catch::Contains("capture.ring_lines: must be an integer"));
    CHECK_THAT(error_of("[supervisor]\nstop_grace_seconds = -1"), Catch::Contains("supervisor.stop_grace_seconds"));
    CHECK_THAT(error_of("[kafka.properties]\n\"acks\" = 1"), Catch::Contains("kafka.properties.acks"));
    CHECK_THAT(error_of("[kafka]\ntopic_replication = 0"), Catch::Contains("kafka.topic_replication"));
    CHECK_THAT(error_of("[kafka]\ntopic_replication = 17"), Catch::Contains("kafka.topic_replication"));
    CHECK_THAT(error_of("processes = []"), Catch::Contains("processes: is empty"));
    CHECK_THAT(error_of("[[processes]]\nargs = []"), Catch::Contains("processes[0].name"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\nterminal = \"t\"\n[[processes]]\nname = \"b\"\nterminal = \"t\""),
               Catch::Contains("processes[1].terminal: duplicate"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\n[[processes]]\nname = \"a\"\nterminal = \"x\""),
               Catch::Contains("processes[1].name: duplicate"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\nterminal = \"../x\""), Catch::Contains("processes[0].terminal"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\nbogus = 1"), Catch::Contains("processes[0].bogus: unknown key"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\ninstances = 17"), Catch::Contains("processes[0].instances"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\ninstances = 0"), Catch::Contains("processes[0].instances"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\nrestart_when_stalled_seconds = -1"),
               Catch::Contains("processes[0].restart_when_stalled_seconds"));
    CHECK_THAT(error_of("[supervisor]\nhealth_window_seconds = 1"), Catch::Contains("supervisor.health_window_seconds"));
    CHECK_THAT(error_of("[http\nlisten="), Catch::Contains("test.toml:1"));
}

TEST_CASE("a non-loopback address needs an access token, from config, file or environment") {
    CHECK_THAT(error_of("[http]\nlisten = \"0.0.0.0:8080\""), Catch::Contains("http.listen") && Catch::Contains("token"));
    CHECK_THAT(error_of("[http]\nlisten = \"0.0.0.0:8080\"\ntoken = \"short\""), Catch::Contains("http.token"));
    CHECK(error_of("[http]\nlisten = \"127.0.0.2:8080\"").empty());

    orderstream::testing::temp_dir dir;
    auto file = dir.path() / "token";
    std::ofstream(file) << "from-a-file-0123456789\n";
    auto config = parse_config("[http]\nlisten = \"0.0.0.0:8080\"\ntoken_file = \"" + file.string() + "\"");
    finalize(config);
    CHECK(config.http.token == "from-a-file-0123456789");
    CHECK_THAT(error_of("[http]\ntoken_file = \"/nonexistent/token\""), Catch::Contains("http.token_file"));

    ::setenv("ORDERSTREAM_TOKEN", "from-the-environment-0123", 1);
    config = parse_config("[http]\nlisten = \"0.0.0.0:8080\"\ntoken = \"from-the-config-file-0123\"");
    finalize(config);
    ::unsetenv("ORDERSTREAM_TOKEN");
    CHECK(config.http.token == "from-the-environment-0123");
}

TEST_CASE("a missing config file or a directory is a clear error with the reason") {
    CHECK_THROWS_WITH(load_config_file("/nonexistent/orderstream.toml"),
                      Catch::Contains("cannot open the config file: No such file or directory"));
    orderstream::testing::temp_dir dir;
    CHECK_THROWS_WITH(load_config_file(dir.path().string()), Catch::Contains("is a directory"));
}

TEST_CASE("kafka.password_file becomes sasl.password, and a missing file is named") {
    orderstream::testing::temp_dir dir;
    auto file = dir.path() / "password";
    std::ofstream(file) << "s3cret-from-a-file\n";
    auto config = parse_config("[kafka]\npassword_file = \"" + file.string() +
                               "\"\n[kafka.properties]\n\"sasl.password\" = \"from-the-config\"\n");
    finalize(config);
    std::vector<std::string> passwords;
    for (const auto& [key, value] : config.kafka.properties)
        if (key == "sasl.password") passwords.push_back(value);
    CHECK(passwords == std::vector<std::string>{"s3cret-from-a-file"});  // the file wins, once
    CHECK_THAT(error_of("[kafka]\npassword_file = \"/nonexistent/password\""), Catch::Contains("kafka.password_file"));
}

TEST_CASE("dependencies must name processes and form no cycle; copies may not take other names") {
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\ndepends_on = [\"ghost\"]"),
               Catch::Contains("processes[0].depends_on: \"a\" depends on \"ghost\", which is not a process"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\ndepends_on = [\"b\"]\n"
                        "[[processes]]\nname = \"b\"\ndepends_on = [\"c\"]\n"
                        "[[processes]]\nname = \"c\"\ndepends_on = [\"a\"]"),
               Catch::Contains("depends_on forms a cycle: a -> b -> c -> a"));
    CHECK_THAT(error_of("[[processes]]\nname = \"a\"\ndepends_on = [\"a\"]"), Catch::Contains("cycle: a -> a"));
    CHECK_THAT(error_of("[[processes]]\nname = \"web\"\n[[processes]]\nname = \"web-2\""),
               Catch::Contains("\"web-2\" is the name of copy 2 of \"web\""));
    auto config = orderstream::config::parse_config(
        "[[processes]]\nname = \"a\"\ninstances = 3\nnotify_ready = true\nrestart_when_stalled_seconds = 60\n"
        "[[processes]]\nname = \"b\"\ndepends_on = [\"a\"]", "test.toml");
    orderstream::config::finalize(config);
    CHECK(config.processes[0].instances == 3);
    CHECK(config.processes[0].notify_ready);
    CHECK(config.processes[0].restart_when_stalled_seconds == 60);
    CHECK(config.processes[1].depends_on == std::vector<std::string>{"a"});
}

TEST_CASE("the default processes start the consumers first and restart a stalled one after a minute") {
    auto processes = orderstream::config::default_processes(1.0);
    REQUIRE(processes.size() == 4);
    CHECK(processes[0].depends_on == std::vector<std::string>{"shipping", "email", "analytics"});
    for (std::size_t i = 1; i < 4; ++i) {
        CHECK(processes[i].notify_ready);
        CHECK(processes[i].restart_when_stalled_seconds == 60);
        CHECK(orderstream::config::consumer_group(processes[i]) == processes[i].name + "-group");
    }
}
