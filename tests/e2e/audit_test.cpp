// The audit log: every state-changing request, once, with its outcome, the client and a token
// fingerprint (never the token), in GET /api/audit, the daemon log and audit.file alike.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "support/daemon_process.hpp"

using namespace orderstream::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string token = "audit-test-token-0123456789";

http_reply post(const daemon_process& daemon, const std::string& target, const std::string& body = "",
                std::map<std::string, std::string> headers = {}) {
    if (!headers.count("Authorization")) headers["Authorization"] = "Bearer " + token;
    return http_request(daemon.port(), "POST", target, body, headers);
}

}  // namespace

TEST_CASE("every state-changing request is audited once, with its outcome, refusals included", "[audit]") {
    temp_dir dir;
    const auto file = dir.path() / "audit.jsonl";
    daemon_process daemon("[http]\ntoken = \"" + token + "\"\n[audit]\nfile = \"" + file.string() + "\"\n"
                          "[[processes]]\nname = \"talker\"\ncommand = \"/bin/sh\"\n"
                          "args = [\"-c\", \"while true; do echo tick; sleep 0.2; done\"]\n");
    const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + token}};
    REQUIRE(wait_until([&] { return http_request(daemon.port(), "GET", "/api/processes", "", auth).status == 200; }, 10s));

    CHECK(post(daemon, "/api/processes/talker/stop").status == 200);
    CHECK(post(daemon, "/api/processes/talker/start").status == 200);
    CHECK(post(daemon, "/api/processes/talker/restart").status == 200);
    CHECK(post(daemon, "/api/processes/talker/scale", "{\"instances\":2}").status == 200);
    CHECK(post(daemon, "/api/processes/talker/scale", "{\"instances\":99}").status == 422);
    CHECK(post(daemon, "/api/clear/talker").status == 200);
    CHECK(post(daemon, "/api/clear").status == 200);
    CHECK(post(daemon, "/api/reload").status == 200);
    CHECK(post(daemon, "/api/cluster/brokers/2/stop").status == 200);
    CHECK(post(daemon, "/api/cluster/brokers/2/start").status == 200);
    // Refused by access control: another origin, and a wrong token.
    CHECK(post(daemon, "/api/processes/talker/stop", "", {{"Authorization", "Bearer " + token}, {"Origin", "http://evil.example"}}).status == 403);
    CHECK(post(daemon, "/api/processes/talker/stop", "", {{"Authorization", "Bearer wrong-token-wrong-token"}}).status == 401);

    // GET requests are not audited.
    CHECK(http_request(daemon.port(), "GET", "/api/outputs", "", auth).status == 200);

    auto reply = http_request(daemon.port(), "GET", "/api/audit", "", auth);
    REQUIRE(reply.status == 200);
    auto entries = reply.json()["entries"];
    INFO(entries.dump(1));
    REQUIRE(entries.size() == 12);
    // Newest first: read them in the order they were made.
    std::vector<std::string> seen;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it)
        seen.push_back((*it)["action"].get<std::string>() + " " + ((*it)["target"].is_null() ? "-" : (*it)["target"].get<std::string>()) +
                       " " + (*it)["outcome"].get<std::string>());
    CHECK(seen == std::vector<std::string>{"process.stop talker ok", "process.start talker ok", "process.restart talker ok",
                                           "process.scale talker ok", "process.scale talker failed", "terminal.clear talker ok",
                                           "terminal.clear all ok", "config.reload - ok", "broker.stop 2 ok",
                                           "broker.start 2 ok", "process.stop talker refused", "process.stop talker refused"});
    const auto& scale = entries[entries.size() - 4];
    CHECK(scale["detail"] == "instances 2");
    const auto& too_many = entries[entries.size() - 5];
    CHECK(too_many["status"] == 422);
    CHECK_THAT(too_many["message"].get<std::string>(), Catch::Contains("between 1 and 16"));
    const auto& cross_origin = entries[1];
    CHECK(cross_origin["status"] == 403);
    const auto& wrong = entries[0];
    CHECK(wrong["status"] == 401);
    CHECK(wrong["token"].get<std::string>().size() == 8);
    CHECK(wrong["token"] != cross_origin["token"]);  // told apart, and neither is the token
    for (const auto& entry : entries) {
        CHECK_THAT(entry["client"].get<std::string>(), Catch::StartsWith("127.0.0.1:"));
        CHECK(entry["t_ms"].get<std::int64_t>() > 0);
    }

    // The same records in the file, one JSON line each, and in the daemon log; the token in none.
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(std::count(text.begin(), text.end(), '\n') == 12);
    CHECK_THAT(text, Catch::Contains("\"action\":\"broker.stop\""));
    CHECK(text.find(token) == std::string::npos);
    const auto log = daemon.log();
    CHECK_THAT(log, Catch::Contains("[audit] process.scale talker instances 2 from 127.0.0.1:"));
    CHECK(log.find(token) == std::string::npos);
}

TEST_CASE("an audit file that cannot be opened stops the daemon at start with its name") {
    temp_dir dir;
    const auto config = dir.path() / "orderstream.toml";
    std::ofstream(config) << "[audit]\nfile = \"/nonexistent-dir/audit.jsonl\"\n";
    auto result = run_shell(std::string(ORDERSTREAM_BINARY) + " run --listen 127.0.0.1:0 --config " + config.string() + " 2>&1");
    INFO(result.output);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.output, Catch::Contains("audit.file: cannot open \"/nonexistent-dir/audit.jsonl\""));
}
