// The API and page routes; see router.hpp.
#include "http/router.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <fstream>

#include <boost/beast/core/string.hpp>
#include <nlohmann/json.hpp>

#include "http/content_coding.hpp"
#include "http/json_writer.hpp"
#include "http/operator_json.hpp"
#include "http/outputs_json.hpp"
#include "http/pipeline_metrics.hpp"
#include "http/stream_hub.hpp"
#include "http/request_target.hpp"

namespace orderstream::http {
namespace beast_http = boost::beast::http;
using beast_http::status;
using beast_http::verb;

void add_security_headers(response& res) {
    res.set(beast_http::field::server, "orderstream/" ORDERSTREAM_VERSION);
    res.set("Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set("X-Frame-Options", "DENY");
}

namespace {

response make_response(status code, std::string body, std::string_view content_type, unsigned version) {
    response res{code, version};
    add_security_headers(res);
    res.set(beast_http::field::content_type, std::string(content_type));
    res.body() = std::move(body);
    return res;
}

response json_response(std::string body, unsigned version) {
    auto res = make_response(status::ok, std::move(body), "application/json", version);
    res.set(beast_http::field::cache_control, "no-store");
    return res;
}

response method_not_allowed(std::string_view allow, unsigned version) {
    auto res = error_response(status::method_not_allowed,
                              "method not allowed; use " + std::string(allow), version);
    res.set(beast_http::field::allow, std::string(allow));
    return res;
}

bool is_read(verb method) { return method == verb::get || method == verb::head; }

constexpr std::int64_t max_search_results = 500;

}  // namespace

response error_response(status code, std::string_view message, unsigned version, bool keep_alive) {
    auto res = make_response(code, nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json",
                             version);
    res.set(beast_http::field::cache_control, "no-store");
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

router::router(capture::output_store& store, supervision::supervisor& supervisor,
               std::string web_root)
    : store_(store), supervisor_(supervisor), files_(std::move(web_root)), hostname_(own_hostname()) {}

response router::handle(const request& req, std::string_view client) {
    response res = route(req);
    finish(req, res, client);
    return res;
}

void router::finish(const request& req, response& res, std::string_view client) {
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    if (req.method() == verb::head) res.body().clear();  // prepare_payload kept Content-Length
    record(res.result_int());
    if (audit_ && req.method() == verb::post) audit(req, res, client);
}

bool router::handle_async(const request& req, std::string_view client, std::function<void(response)> reply) {
    if (req.method() != verb::post || !resetter_ || !redriver_) return false;
    auto target = request_target::parse(std::string_view(req.target().data(), req.target().size()));
    if (!target) return false;
    const auto segments = target->segments();
    const bool reset = segments.size() == 4 && segments[0] == "api" && segments[1] == "groups" && segments[3] == "reset";
    const bool redrive = segments.size() == 3 && segments[0] == "api" && segments[1] == "dead-letters" && segments[2] == "redrive";
    if (!reset && !redrive) return false;
    // The request is kept for the answer; the session reads nothing more until it is sent.
    auto held = std::make_shared<request>(req);
    auto answer = [this, held, client = std::string(client), reply = std::move(reply)](response res) {
        finish(*held, res, client);
        reply(std::move(res));
    };
    const unsigned version = req.version();
    if (auto refusal = check_access(req)) {
        answer(std::move(*refusal));
        return true;
    }
    if (reset) {
        std::string group(segments[2]);
        auto parsed = parse_reset_request(req.body());
        if (auto* error = std::get_if<std::string>(&parsed)) {
            answer(error_response(status::bad_request, *error, version));
            return true;
        }
        auto asked = std::get<pipeline::reset_request>(parsed);
        resetter_(group, asked, [answer, group, asked, version](pipeline::reset_result result) {
            answer(make_response(status_of(result.outcome), reset_result_json(group, asked, result), "application/json", version));
        });
        return true;
    }
    auto parsed = parse_redrive_request(req.body());
    if (auto* error = std::get_if<std::string>(&parsed)) {
        answer(error_response(status::bad_request, *error, version));
        return true;
    }
    redriver_(std::get<pipeline::redrive_request>(parsed), [answer, version](pipeline::redrive_result result) {
        answer(make_response(status_of(result.outcome), redrive_result_json(result), "application/json", version));
    });
    return true;
}

// Names the action a POST asked for, and records it with its outcome.
void router::audit(const request& req, const response& res, std::string_view client) {
    auto target = request_target::parse(std::string_view(req.target().data(), req.target().size()));
    if (!target) return;
    const auto segments = target->segments();
    if (segments.size() < 2 || segments[0] != "api") return;
    audit_entry entry;
    entry.t_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (segments.size() == 4 && segments[1] == "processes") {
        entry.action = "process." + std::string(segments[3]);
        entry.target = std::string(segments[2]);
        if (segments[3] == "scale") {
            auto body = nlohmann::json::parse(req.body(), nullptr, false);
            if (body.is_object() && body.contains("instances") && body["instances"].is_number_integer())
                entry.detail = "instances " + std::to_string(body["instances"].get<std::int64_t>());
        }
    } else if (segments[1] == "clear" && segments.size() <= 3) {
        entry.action = "terminal.clear";
        entry.target = segments.size() == 3 ? std::string(segments[2]) : "all";
    } else if (segments.size() == 5 && segments[1] == "cluster" && segments[2] == "brokers") {
        entry.action = "broker." + std::string(segments[4]);
        entry.target = std::string(segments[3]);
    } else if (segments.size() == 2 && segments[1] == "reload") {
        entry.action = "config.reload";
    } else if (segments.size() == 4 && segments[1] == "groups" && segments[3] == "reset") {
        auto body = nlohmann::json::parse(req.body(), nullptr, false);
        // A dry run changes nothing: it is a question, not an action.
        if (body.is_object() && body.contains("dry_run") && body["dry_run"] == true) return;
        entry.action = "group.reset";
        entry.target = std::string(segments[2]);
        if (body.is_object() && body.contains("to") && body["to"].is_string())
            entry.detail = "to " + body["to"].get<std::string>().substr(0, 32);
        auto answer = nlohmann::json::parse(res.body(), nullptr, false);
        if (answer.is_object() && answer.contains("replayed") && answer.contains("skipped"))
            entry.detail += "; " + answer["replayed"].dump() + " to process again, " + answer["skipped"].dump() + " skipped";
    } else if (segments.size() == 3 && segments[1] == "dead-letters" && segments[2] == "redrive") {
        entry.action = "dead_letters.redrive";
        auto answer = nlohmann::json::parse(res.body(), nullptr, false);
        if (answer.is_object() && answer.contains("summary") && answer["summary"].is_string()) entry.detail = answer["summary"];
    } else {
        entry.action = "api.post";
        entry.target = target->path;
    }
    const unsigned status = res.result_int();
    entry.status = status;
    entry.outcome = status < 300 ? "ok" : status == 401 || status == 403 ? "refused" : "failed";
    if (status >= 300) {
        auto body = nlohmann::json::parse(res.body(), nullptr, false);
        if (body.is_object() && body.contains("error") && body["error"].is_string()) entry.message = body["error"];
    }
    entry.client = std::string(client);
    auto authorization = req[beast_http::field::authorization];
    if (authorization.size() > 7 && boost::beast::iequals(authorization.substr(0, 7), "bearer "))
        entry.token = token_fingerprint(std::string_view(authorization.data() + 7, authorization.size() - 7));
    audit_->add(std::move(entry));
}

namespace {

// Framing the parser accepts but RFC 9112 does not: two Hosts (which one names us?) and a
// transfer coding other than chunked alone (we would act on a body we cannot read).
std::optional<response> framing_error(const request& req) {
    if (req.count(beast_http::field::host) > 1)
        return error_response(status::bad_request, "more than one Host header", req.version());
    auto coding = req[beast_http::field::transfer_encoding];
    if (!coding.empty() && !boost::beast::iequals(coding, "chunked"))
        return error_response(status::not_implemented,
                              "unsupported Transfer-Encoding \"" + std::string(coding) + "\"; only chunked is accepted",
                              req.version());
    return std::nullopt;
}

}  // namespace

response router::route(const request& req) {
    unsigned version = req.version();
    if (auto refusal = framing_error(req)) return std::move(*refusal);
    auto target = request_target::parse(std::string_view(req.target().data(), req.target().size()));
    if (!target) return error_response(status::bad_request, "malformed request target", version);
    auto segments = target->segments();
    bool protected_path = (!segments.empty() && segments[0] == "api") || target->path == "/metrics";
    if (protected_path)
        if (auto refusal = check_access(req)) return std::move(*refusal);

    if (!segments.empty() && segments[0] == "api") {
        // Every endpoint below has a second segment (found by fuzzing: "/api/" read past the end).
        if (segments.size() < 2) return error_response(status::not_found, "no such API endpoint: " + target->path, version);
        if (segments.size() == 2 && segments[1] == "outputs") {
            if (!is_read(req.method())) return method_not_allowed("GET", version);
            return outputs(req, *target);
        }
        if (segments.size() == 4 && segments[1] == "outputs" && segments[3] == "log") {
            if (!is_read(req.method())) return method_not_allowed("GET", version);
            return log_file(segments[2], version);
        }
        if (segments.size() >= 2 && segments.size() <= 3 && segments[1] == "clear") {
            if (req.method() != verb::post) return method_not_allowed("POST", version);
            return clear(segments);
        }
        if (segments.size() == 5 && segments[1] == "cluster" && segments[2] == "brokers") {
            if (req.method() != verb::post) return method_not_allowed("POST", version);
            return broker_action(segments[3], segments[4], version);
        }
        if (segments.size() == 2 && segments[1] == "orders") {
            if (!is_read(req.method())) return method_not_allowed("GET", version);
            return orders_search(*target, version);
        }
        if ((segments.size() == 4 && segments[1] == "groups" && segments[3] == "reset") ||
            (segments.size() == 3 && segments[1] == "dead-letters" && segments[2] == "redrive")) {
            if (req.method() != verb::post) return method_not_allowed("POST", version);
            return error_response(status::not_found, "not available: the daemon runs no Kafka view", version);
        }
        if (segments[1] == "cluster" || segments[1] == "groups" || segments[1] == "orders" ||
            segments[1] == "dead-letters" || (segments.size() == 3 && segments[1] == "metrics" && segments[2] == "history")) {
            if (!is_read(req.method())) return method_not_allowed("GET", version);
            return pipeline_view(segments, version);
        }
        if (segments.size() == 2 && segments[1] == "stream") {
            // GET is taken over by the session (http_session) before it reaches the router.
            if (req.method() != verb::get) return method_not_allowed("GET", version);
            return error_response(status::not_found, "the push stream is not available", version);
        }
        if (segments.size() == 2 && segments[1] == "audit") {
            if (!is_read(req.method())) return method_not_allowed("GET", version);
            if (!audit_) return error_response(status::not_found, "no audit log", version);
            return json_response(audit_->json(), version);
        }
        if (segments.size() == 2 && segments[1] == "reload") {
            if (req.method() != verb::post) return method_not_allowed("POST", version);
            return reload();
        }
        if (segments.size() == 2 && segments[1] == "processes") {
            if (!is_read(req.method())) return method_not_allowed("GET", version);
            return processes();
        }
        if (segments.size() == 4 && segments[1] == "processes") {
            if (req.method() != verb::post) return method_not_allowed("POST", version);
            if (segments[3] == "scale") return scale(segments[2], req.body());
            return process_action(segments[2], segments[3]);
        }
        return error_response(status::not_found, "no such API endpoint: " + target->path, version);
    }
    if (target->path == "/healthz") {
        if (!is_read(req.method())) return method_not_allowed("GET", version);
        return json_response(R"({"status":"ok"})", version);
    }
    if (target->path == "/readyz") {
        if (!is_read(req.method())) return method_not_allowed("GET", version);
        return readiness();
    }
    if (target->path == "/metrics") {
        if (!is_read(req.method())) return method_not_allowed("GET", version);
        return metrics();
    }

    if (!is_read(req.method())) return method_not_allowed("GET", version);
    auto file = files_.find(target->path);
    if (!file) return error_response(status::not_found, "not found", version);
    auto res = make_response(status::ok, std::move(file->body), file->content_type, version);
    res.set(beast_http::field::cache_control, "no-cache");
    return res;
}

std::optional<response> router::check_access(const request& req) {
    if (auto refusal = framing_error(req)) return refusal;
    if (!policy_) return error_response(status::service_unavailable, "starting up", req.version());
    auto refusal = policy_->check(req, req.method() != verb::get && req.method() != verb::head);
    if (!refusal) return std::nullopt;
    auto res = error_response(refusal->status, refusal->message, req.version());
    if (refusal->status == status::unauthorized) res.set(beast_http::field::www_authenticate, "Bearer");
    return res;
}

response router::outputs(const request& req, const request_target& target) {
    unsigned version = req.version();
    std::optional<std::uint64_t> since;
    if (auto text = target.param("since")) {
        std::uint64_t value = 0;
        auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (error != std::errc() || end != text->data() + text->size() || text->empty())
            return error_response(status::bad_request, "since must be a sequence number (an unsigned integer)", version);
        since = value;
    }
    auto strip = target.param("strip_ansi");
    bool plain = strip && *strip != "0" && *strip != "false";

    if (since) {
        std::string out;
        write_outputs_since(store_, *since, plain, out);
        return json_response(std::move(out), version);
    }
    return json_response(*full_outputs(plain), version);
}

const std::shared_ptr<const std::string>& router::full_outputs(bool plain) {
    std::uint64_t clears = 0;
    for (const auto& terminal : store_.terminals()) clears += terminal.clears;
    auto& cache = full_outputs_[plain];
    if (!cache.valid || cache.seq != store_.last_seq() || cache.clears != clears) {
        // A fresh string: responses still being sent keep the one they have.
        auto body = std::make_shared<std::string>();
        if (cache.body) body->reserve(cache.body->size());
        write_outputs(store_, plain, *body);
        cache.body = std::move(body);
        cache.gzipped.reset();
        cache.gzip_failed = false;
        cache.valid = true;
        cache.seq = store_.last_seq();
        cache.clears = clears;
    }
    return cache.body;
}

std::shared_ptr<const std::string> router::full_outputs_gzipped(bool plain) {
    const auto& body = full_outputs(plain);
    auto& cache = full_outputs_[plain];
    if (!cache.gzipped && !cache.gzip_failed) {
        if (auto packed = gzip(*body))
            cache.gzipped = std::make_shared<const std::string>(std::move(*packed));
        else
            cache.gzip_failed = true;
    }
    return cache.gzipped;
}

std::optional<shared_response> router::handle_shared(const request& req, std::string_view) {
    if (!is_read(req.method()) || framing_error(req)) return std::nullopt;
    auto target = request_target::parse(std::string_view(req.target().data(), req.target().size()));
    if (!target) return std::nullopt;
    const unsigned version = req.version();
    shared_response reply{response{status::ok, version}, {}, nullptr};
    auto& head = reply.head;
    add_security_headers(head);
    // Read only once the request is known to be answered here.
    auto wants_gzip = [&req] {
        const auto accept_encoding = req[beast_http::field::accept_encoding];
        return accepts_gzip(std::string_view(accept_encoding.data(), accept_encoding.size()));
    };
    if (target->path == "/api/outputs") {
        if (target->param("since") || check_access(req)) return std::nullopt;
        auto strip = target->param("strip_ansi");
        const bool plain = strip && *strip != "0" && *strip != "false";
        auto body = wants_gzip() ? full_outputs_gzipped(plain) : nullptr;
        if (body) head.set(beast_http::field::content_encoding, "gzip");
        else body = full_outputs(plain);
        head.set(beast_http::field::content_type, "application/json");
        head.set(beast_http::field::cache_control, "no-store");
        head.set(beast_http::field::vary, "Accept-Encoding");
        reply.body = *body;
        reply.keep = body;
    } else {
        const auto segments = target->segments();
        if ((!segments.empty() && segments[0] == "api") || target->path == "/healthz" || target->path == "/readyz" ||
            target->path == "/metrics")
            return std::nullopt;
        auto file = files_.embedded(target->path);
        if (!file) return std::nullopt;
        const bool gzipped = !file->gzip_body.empty() && wants_gzip();
        const auto etag = gzipped ? file->gzip_etag : file->etag;
        head.set(beast_http::field::cache_control, "no-cache");
        head.set(beast_http::field::etag, boost::beast::string_view(etag.data(), etag.size()));
        if (!file->gzip_body.empty()) head.set(beast_http::field::vary, "Accept-Encoding");
        const auto asked = req[beast_http::field::if_none_match];
        if (none_match_hits(std::string_view(asked.data(), asked.size()), etag)) {
            head.result(status::not_modified);
        } else {
            head.set(beast_http::field::content_type,
                     boost::beast::string_view(file->content_type.data(), file->content_type.size()));
            if (gzipped) head.set(beast_http::field::content_encoding, "gzip");
            reply.body = gzipped ? file->gzip_body : file->body;
        }
    }
    // A 304 has no body, and its Content-Length would have to be the 200's: none is sent.
    if (head.result() != status::not_modified) head.content_length(reply.body.size());
    if (req.method() == verb::head) reply.body = {};
    head.keep_alive(req.keep_alive());
    record(head.result_int());
    return reply;
}

response router::clear(const std::vector<std::string_view>& segments) {
    if (segments.size() == 2) {
        store_.clear_all();
        return json_response(R"({"cleared":"all"})", 11);
    }
    auto terminal = store_.find(segments[2]);
    if (!terminal)
        return error_response(status::not_found, "unknown terminal \"" + std::string(segments[2]) + "\"");
    store_.clear(*terminal);
    return json_response(nlohmann::json{{"cleared", segments[2]}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 11);
}

std::string processes_json(const supervision::supervisor& supervisor) {
    auto list = nlohmann::json::array();
    for (const auto& process : supervisor.processes()) {
        const auto& config = process->config();
        const auto group = config::consumer_group(config);
        auto history = nlohmann::json::array();
        for (const auto& entry : process->history())
            history.push_back({{"t_ms", entry.t_ms}, {"event", entry.event}, {"reason", entry.reason}});
        nlohmann::json item{{"name", config.name},
                            {"process", process->program()},
                            {"instance", process->instance()},
                            {"instances", supervisor.instances(process->program())},
                            {"max_instances", config::max_instances},
                            {"terminal", config.terminal},
                            {"group", group.empty() ? nlohmann::json(nullptr) : nlohmann::json(group)},
                            {"state", supervision::to_string(process->state())},
                            {"ready", process->ready()},
                            {"held", process->held().empty() ? nlohmann::json(nullptr) : nlohmann::json(process->held())},
                            {"depends_on", config.depends_on},
                            {"stalled", process->stalled()},
                            {"restart_when_stalled_seconds", config.restart_when_stalled_seconds},
                            {"history", history},
                            {"restarts", process->restarts()}};
        item["partitions"] = process->partitions_ms() > 0 ? nlohmann::json(process->partitions()) : nlohmann::json(nullptr);
        auto pid = process->pid();
        item["pid"] = pid ? nlohmann::json(*pid) : nlohmann::json(nullptr);
        auto uptime = process->uptime_seconds();
        item["uptime_seconds"] = uptime ? nlohmann::json(*uptime) : nlohmann::json(nullptr);
        const auto& last_exit = process->last_exit();
        item["last_exit"] = last_exit ? nlohmann::json(*last_exit) : nlohmann::json(nullptr);
        list.push_back(std::move(item));
    }
    return list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

response router::processes() const { return json_response(processes_json(supervisor_), 11); }

response router::process_action(std::string_view name, std::string_view action) {
    auto* process = supervisor_.find(name);
    if (!process)
        return error_response(status::not_found, "unknown process \"" + std::string(name) + "\"");
    // A child started now would have no stop deadline and could hold the shutdown forever.
    if (supervisor_.shutting_down() && action != "stop")
        return error_response(status::conflict, "the daemon is shutting down; nothing can be started");
    std::optional<std::string> refused;
    if (action == "start")
        refused = supervisor_.start(*process);
    else if (action == "stop")
        supervisor_.stop(*process);
    else if (action == "restart")
        refused = supervisor_.restart(*process);
    else
        return error_response(status::not_found, "unknown action \"" + std::string(action) +
                                                     "\"; use start, stop or restart");
    if (refused) return error_response(status::conflict, *refused);
    return json_response(nlohmann::json{{"name", name},
                                        {"action", action},
                                        {"state", supervision::to_string(process->state())}}
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         11);
}

response router::scale(std::string_view name, const std::string& body) {
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("instances") ||
        !parsed["instances"].is_number_integer())
        return error_response(status::bad_request, R"(the body must be JSON like {"instances": 3})");
    const auto wanted = parsed["instances"].get<std::int64_t>();
    const int instances = static_cast<int>(std::clamp<std::int64_t>(wanted, -1, config::max_instances + 1));
    if (auto failure = supervisor_.scale(name, instances)) {
        const bool unknown = failure->rfind("unknown", 0) == 0;
        const bool shutting = supervisor_.shutting_down();
        return error_response(unknown ? status::not_found : shutting ? status::conflict : status::unprocessable_entity, *failure);
    }
    auto copies = nlohmann::json::array();
    for (const auto& process : supervisor_.processes())
        if (process->program() == name) copies.push_back({{"name", process->config().name},
                                                          {"state", supervision::to_string(process->state())}});
    return json_response(nlohmann::json{{"process", name}, {"instances", instances}, {"copies", copies}}
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         11);
}

response router::log_file(std::string_view terminal, unsigned version) const {
    if (!log_files_) return error_response(status::not_found, "output is not kept on disk (capture.log_dir is not set)", version);
    if (!store_.find(terminal)) return error_response(status::not_found, "unknown terminal \"" + std::string(terminal) + "\"", version);
    std::ifstream in(log_files_->path(std::string(terminal)), std::ios::binary | std::ios::ate);
    std::string body;
    if (in) {
        // At most the rotation size, whatever the file holds by now.
        const auto size = std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max<std::streamoff>(in.tellg(), 0)),
                                                  log_files_->options().max_bytes);
        body.resize(static_cast<std::size_t>(size));
        in.seekg(0);
        in.read(body.data(), static_cast<std::streamsize>(body.size()));
        body.resize(static_cast<std::size_t>(in.gcount()));
    }
    auto res = make_response(status::ok, std::move(body), "text/plain; charset=utf-8", version);
    res.set(beast_http::field::content_disposition, "attachment; filename=\"" + std::string(terminal) + ".log\"");
    res.set(beast_http::field::cache_control, "no-store");
    return res;
}

response router::reload() {
    if (!reloader_) return error_response(status::conflict, "the daemon was started without a config file: nothing to reload");
    if (supervisor_.shutting_down()) return error_response(status::conflict, "the daemon is shutting down; nothing can be started");
    try {
        const auto changes = reloader_();
        return json_response(nlohmann::json{{"added", changes.added},
                                            {"removed", changes.removed},
                                            {"changed", changes.changed},
                                            {"unchanged", changes.unchanged}}
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                             11);
    } catch (const std::exception& error) {
        return error_response(status::unprocessable_entity,
                              std::string("the config was not reloaded: ") + error.what() + "; the daemon runs as before");
    }
}

response router::broker_action(std::string_view broker, std::string_view action, unsigned version) {
    if (!broker_switch_)
        return error_response(status::conflict, "brokers can be taken down only in the embedded cluster", version);
    if (action != "stop" && action != "start")
        return error_response(status::not_found, "unknown action; use stop or start", version);
    int id = 0;
    auto [end, error] = std::from_chars(broker.data(), broker.data() + broker.size(), id);
    if (error != std::errc() || end != broker.data() + broker.size())
        return error_response(status::bad_request, "a broker id is a number", version);
    bool up = action == "start";
    if (auto failure = broker_switch_(id, up)) return error_response(status::conflict, *failure, version);
    return json_response(nlohmann::json{{"broker", id}, {"up", up}}.dump(), version);
}

std::vector<local_process> router::local_processes() const {
    std::vector<local_process> list;
    for (const auto& process : supervisor_.processes())
        if (auto pid = process->pid())
            list.push_back({process->config().name, static_cast<int>(*pid), config::consumer_group(process->config()),
                            process->partitions_ms() > 0, process->partitions()});
    return list;
}

response router::pipeline_view(const std::vector<std::string_view>& segments, unsigned version) const {
    if (!pipeline_) return error_response(status::service_unavailable, "the Kafka view is not running", version);
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    std::string_view what = segments[1];
    if (segments.size() == 2 && what == "cluster") return json_response(cluster_json(*pipeline_), version);
    if (segments.size() == 2 && what == "groups")
        return json_response(groups_json(*pipeline_, now, local_processes(), hostname_), version);
    if (segments.size() == 2 && what == "dead-letters") return json_response(dead_letters_json(*pipeline_), version);
    if (segments.size() == 3 && what == "metrics") return json_response(history_json(*pipeline_), version);
    if (segments.size() == 3 && what == "orders") {
        std::int64_t id = 0;
        auto text = segments[2];
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (error != std::errc() || end != text.data() + text.size())
            return error_response(status::bad_request, "an order id is a whole number, e.g. /api/orders/1001", version);
        if (auto trace = order_json(*pipeline_, id)) return json_response(std::move(*trace), version);
        return error_response(status::not_found, "order " + std::string(text) + " has not been seen (yet)", version);
    }
    return error_response(status::not_found, "no such API endpoint", version);
}

response router::orders_search(const request_target& target, unsigned version) const {
    if (!pipeline_) return error_response(status::service_unavailable, "the Kafka view is not running", version);
    pipeline::pipeline_state::order_query query;
    if (auto user = target.param("user")) query.user = *user;
    if (auto item = target.param("item")) query.item = *item;
    auto number = [&](const char* name, auto& out, auto low, auto high) -> std::optional<std::string> {
        auto text = target.param(name);
        if (!text || text->empty()) return std::nullopt;
        std::remove_reference_t<decltype(*out)> value{};
        auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (error != std::errc() || end != text->data() + text->size() || value < low || value > high)
            return std::string(name) + " must be a number from " + std::to_string(low) + " to " + std::to_string(high);
        out = value;
        return std::nullopt;
    };
    std::optional<std::int64_t> limit;
    const std::int64_t far = std::int64_t{1} << 50;
    for (auto error : {number("min_total", query.min_total, 0.0, 1e12), number("max_total", query.max_total, 0.0, 1e12),
                       number("from_ms", query.from_ms, std::int64_t{0}, far), number("to_ms", query.to_ms, std::int64_t{0}, far),
                       number("limit", limit, std::int64_t{1}, std::int64_t{max_search_results})})
        if (error) return error_response(status::bad_request, *error, version);
    if (limit) query.limit = static_cast<std::size_t>(*limit);
    return json_response(orders_search_json(*pipeline_, query), version);
}

response router::readiness() const {
    std::vector<std::string> reasons;
    for (const auto& process : supervisor_.processes())
        if (process->state() != supervision::process_state::running)
            reasons.push_back(process->config().name + " is " + std::string(supervision::to_string(process->state())) +
                              (process->held().empty() ? "" : " (" + process->held() + ")"));
    if (pipeline_)
        for (const auto& group : pipeline_->configured_groups())
            if (const auto* health = pipeline_->health(group))
                if (health->status >= pipeline::group_status::stall)
                    reasons.push_back(group + " is " + std::string(pipeline::to_string(health->status)) + ": " + health->reason);
    if (readiness_probe_)
        if (auto reason = readiness_probe_()) reasons.push_back(*reason);
    if (pipeline_ && !pipeline_->cluster_reachable())
        reasons.push_back(!pipeline_->cluster_seen() ? "the Kafka cluster has not answered yet"
                          : pipeline_->cluster().error.empty()
                              ? "the Kafka cluster is unreachable"
                              : "the Kafka cluster is unreachable: " + pipeline_->cluster().error);
    else if (pipeline_ && pipeline_->cluster_waiting())
        reasons.push_back("the Kafka cluster answers but the pipeline waits: " + pipeline_->cluster().waiting);
    if (reasons.empty()) return json_response(R"({"status":"ready"})", 11);
    auto res = make_response(status::service_unavailable,
                             nlohmann::json{{"status", "not ready"}, {"reasons", reasons}}.dump(
                                 -1, ' ', false, nlohmann::json::error_handler_t::replace),
                             "application/json", 11);
    res.set(beast_http::field::cache_control, "no-store");
    return res;
}

response router::metrics() const {
    prometheus_writer out;
    const auto& terminals = store_.terminals();
    out.family("orderstream_lines_captured_total", "counter", "Lines captured from the processes of a terminal.");
    for (const auto& t : terminals) out.sample("orderstream_lines_captured_total", {{"terminal", t.name}}, t.captured);
    out.family("orderstream_lines_dropped_total", "counter", "Lines pushed out of a terminal's ring by newer ones.");
    for (const auto& t : terminals) out.sample("orderstream_lines_dropped_total", {{"terminal", t.name}}, t.lines.dropped());

    out.family("orderstream_process_restarts_total", "counter", "Times the supervisor started a process again.");
    for (const auto& p : supervisor_.processes())
        out.sample("orderstream_process_restarts_total", {{"process", p->config().name}}, p->restarts());
    out.family("orderstream_process_state", "gauge", "1 for the state each process is in, 0 for the others.");
    using supervision::process_state;
    for (const auto& p : supervisor_.processes())
        for (auto state : {process_state::stopped, process_state::starting, process_state::running, process_state::backoff,
                           process_state::stopping, process_state::exited, process_state::fatal})
            out.sample("orderstream_process_state", {{"process", p->config().name}, {"state", supervision::to_string(state)}},
                       p->state() == state ? 1 : 0);

    if (pipeline_) {
        out.family("orderstream_group_status", "gauge",
                   "1 for the health status each consumer group is in (judged over a sliding window, as Burrow does), 0 for the others.");
        for (const auto& group : pipeline_->configured_groups())
            if (const auto* health = pipeline_->health(group))
                for (auto status : {pipeline::group_status::ok, pipeline::group_status::warn, pipeline::group_status::stall,
                                    pipeline::group_status::stop, pipeline::group_status::err})
                    out.sample("orderstream_group_status", {{"group", group}, {"status", std::string(pipeline::to_string(status))}},
                               health->status == status ? 1 : 0);
    }
    out.family("orderstream_process_stalled", "gauge", "1 while the partitions a consumer copy holds are stalled.");
    for (const auto& p : supervisor_.processes())
        out.sample("orderstream_process_stalled", {{"process", p->config().name}}, p->stalled() ? 1 : 0);

    out.family("orderstream_http_responses_total", "counter", "HTTP responses sent, by status code.");
    for (const auto& [code, count] : responses_by_status_) {
        std::string code_text = std::to_string(code);
        out.sample("orderstream_http_responses_total", {{"code", code_text}}, static_cast<double>(count));
    }
    out.family("orderstream_stream_clients", "gauge", "Clients connected to the push stream (/api/stream).");
    out.sample("orderstream_stream_clients", hub_ ? hub_->clients() : 0);
    out.family("orderstream_stream_events_total", "counter", "Events sent to push stream clients.");
    out.sample("orderstream_stream_events_total", hub_ ? hub_->events_sent() : 0);
    if (pipeline_) write_pipeline_metrics(*pipeline_, out);
    for (const auto& source : metrics_sources_) source(out);
    auto res = make_response(status::ok, out.take(), "text/plain; version=0.0.4; charset=utf-8", 11);
    res.set(beast_http::field::cache_control, "no-store");
    return res;
}

}  // namespace orderstream::http
