// Maps one HTTP request to its response: the JSON API and the monitor page. Pure request in,
// response out (no sockets), so tests and fuzzers can drive it directly.
#pragma once

#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "capture/output_store.hpp"
#include "http/static_files.hpp"
#include "supervision/supervisor.hpp"

namespace orderstream::http {

using request = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

// A JSON {"error": message} response with the security headers.
response error_response(boost::beast::http::status status, std::string_view message,
                        unsigned version = 11, bool keep_alive = false);

class router {
public:
    router(capture::output_store& store, supervision::supervisor& supervisor, std::string web_root);
    response handle(const request& req);

private:
    response route(const request& req);
    response outputs(const request& req, const struct request_target& target);
    response clear(const std::vector<std::string_view>& segments);
    response processes() const;
    response process_action(std::string_view name, std::string_view action);

    capture::output_store& store_;
    supervision::supervisor& supervisor_;
    static_files files_;
};

}  // namespace orderstream::http
