// Maps one HTTP request to its response: the JSON API and the monitor page. Pure request in,
// response out (no sockets), so tests and fuzzers can drive it directly.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "capture/output_store.hpp"
#include "http/access_policy.hpp"
#include "http/audit_log.hpp"
#include "http/pipeline_json.hpp"
#include "http/prometheus_writer.hpp"
#include "pipeline/pipeline_state.hpp"
#include "http/static_files.hpp"
#include "pipeline/operator_requests.hpp"
#include "supervision/supervisor.hpp"

namespace orderstream::http {

using request = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

class stream_hub;

// A response whose body is shared and immutable (the cached whole-ring /api/outputs, the built-in
// page files): sent as is, without a copy per response. `keep` holds the body while it is sent.
struct shared_response {
    response head;  // every header set, Content-Length included; its own body empty
    std::string_view body;
    std::shared_ptr<const void> keep;
};

// Content-Security-Policy, nosniff, Referrer-Policy and friends: on every response.
void add_security_headers(response& res);
// The /api/processes JSON.
std::string processes_json(const supervision::supervisor& supervisor);

// A JSON {"error": message} response with the security headers.
response error_response(boost::beast::http::status status, std::string_view message,
                        unsigned version = 11, bool keep_alive = false);

class router {
public:
    router(capture::output_store& store, supervision::supervisor& supervisor, std::string web_root);
    // `client`: the peer's address, for the audit log.
    response handle(const request& req, std::string_view client = {});
    // Until set, every API request is refused: the policy needs the port actually bound.
    void set_access_policy(access_policy policy) { policy_ = std::move(policy); }
    // More metric families for GET /metrics (e.g. Kafka's), written on each scrape.
    void add_metrics_source(std::function<void(prometheus_writer&)> source) {
        metrics_sources_.push_back(std::move(source));
    }
    // For GET /readyz besides the children's states: a reason the daemon is not ready, or nullopt.
    void set_readiness_probe(std::function<std::optional<std::string>()> probe) {
        readiness_probe_ = std::move(probe);
    }
    // The access check of the API, for requests the session handles itself (the stream):
    // a refusal to send, or nullopt.
    std::optional<response> check_access(const request& req);
    void set_stream_hub(stream_hub* hub) { hub_ = hub; }
    // The Kafka view (cluster, groups, order traces, history, dead letters); without it those
    // endpoints answer 503.
    void set_pipeline(const pipeline::pipeline_state* pipeline) { pipeline_ = pipeline; }
    // Takes a broker of the embedded cluster down (false) or up (true); an error message or
    // nullopt. Unset (an external cluster): the broker endpoints answer 409.
    using broker_switch = std::function<std::optional<std::string>(int broker, bool up)>;
    void set_broker_switch(broker_switch control) { broker_switch_ = std::move(control); }
    // Reads the config file again and applies its processes (POST /api/reload): what changed,
    // or a std::exception whose message says why nothing changed. Unset: the daemon has no
    // config file, and the endpoint answers 409.
    using reloader = std::function<supervision::update_result()>;
    void set_reloader(reloader reload) { reloader_ = std::move(reload); }
    // The actions whose answer comes later (POST /api/groups/{group}/reset and
    // /api/dead-letters/redrive): each is called on the event loop and calls back there once.
    // Unset: those endpoints answer 404.
    using group_resetter = std::function<void(const std::string& group, pipeline::reset_request,
                                              std::function<void(pipeline::reset_result)>)>;
    using redriver = std::function<void(pipeline::redrive_request, std::function<void(pipeline::redrive_result)>)>;
    void set_operator_actions(group_resetter reset, redriver redrive) {
        resetter_ = std::move(reset);
        redriver_ = std::move(redrive);
    }
    // A GET or HEAD answered from a shared body, or nullopt (then handle() answers it, refusals
    // and errors included).
    std::optional<shared_response> handle_shared(const request& req, std::string_view client = {});
    // Takes over a request answered later (a reset, a redrive): true when it did; then `reply`
    // is called once, on the event loop, with the response (checked, counted and audited).
    bool handle_async(const request& req, std::string_view client, std::function<void(response)> reply);
    // Terminal files for GET /api/outputs/{terminal}/log (unset: 404, no capture.log_dir).
    void set_log_files(const capture::log_files* files) { log_files_ = files; }
    // Every POST to /api/ is recorded there (none when null), and GET /api/audit lists it.
    void set_audit_log(audit_log* audit) { audit_ = audit; }
    stream_hub* hub() const { return hub_; }
    // Counts a response the session sent without the router (431, 413, 503, 400).
    void record(unsigned status) { ++responses_by_status_[status]; }

private:
    response route(const request& req);
    response outputs(const request& req, const struct request_target& target);
    response clear(const std::vector<std::string_view>& segments);
    response processes() const;
    response process_action(std::string_view name, std::string_view action);
    response scale(std::string_view name, const std::string& body);
    response metrics() const;
    response broker_action(std::string_view broker, std::string_view action, unsigned version);
    response pipeline_view(const std::vector<std::string_view>& segments, unsigned version) const;
    std::vector<local_process> local_processes() const;
    response readiness() const;
    response reload();
    void audit(const request& req, const response& res, std::string_view client);
    response log_file(std::string_view terminal, unsigned version) const;
    response orders_search(const struct request_target& target, unsigned version) const;
    // The status, framing and audit every response gets, whether answered now or later.
    void finish(const request& req, response& res, std::string_view client);

    capture::output_store& store_;
    supervision::supervisor& supervisor_;
    static_files files_;
    std::optional<access_policy> policy_;
    std::vector<std::function<void(prometheus_writer&)>> metrics_sources_;
    std::function<std::optional<std::string>()> readiness_probe_;
    audit_log* audit_ = nullptr;
    std::map<unsigned, std::uint64_t> responses_by_status_;
    stream_hub* hub_ = nullptr;
    const pipeline::pipeline_state* pipeline_ = nullptr;
    broker_switch broker_switch_;
    reloader reloader_;
    group_resetter resetter_;
    redriver redriver_;
    const capture::log_files* log_files_ = nullptr;
    std::string hostname_;  // to tell this host's group members from others'
    // The whole-ring /api/outputs answer (plain and with ANSI codes), rebuilt only when a line
    // was added or a terminal cleared: pollers ask far more often than the rings change.
    struct outputs_cache {
        bool valid = false;
        std::uint64_t seq = 0, clears = 0;
        std::shared_ptr<const std::string> body;  // a new one when the rings change, never edited
        std::shared_ptr<const std::string> gzipped;  // made from `body` when first asked for
        bool gzip_failed = false;                     // then the identity goes out until it changes
    };
    outputs_cache full_outputs_[2];
    const std::shared_ptr<const std::string>& full_outputs(bool plain);
    // The same gzipped, or null when zlib could not compress it.
    std::shared_ptr<const std::string> full_outputs_gzipped(bool plain);
};

}  // namespace orderstream::http
