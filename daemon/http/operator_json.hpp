// The JSON of the operator's actions: the request bodies of POST /api/groups/{group}/reset and
// POST /api/dead-letters/redrive, parsed strictly (a mistake is named, nothing is guessed), and
// the answers with their status codes.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <boost/beast/http/status.hpp>

#include "pipeline/operator_requests.hpp"

namespace orderstream::http {

// A parsed request, or what is wrong with the body.
std::variant<pipeline::reset_request, std::string> parse_reset_request(std::string_view body);
std::variant<pipeline::redrive_request, std::string> parse_redrive_request(std::string_view body);

boost::beast::http::status status_of(pipeline::action_outcome outcome);
std::string reset_result_json(const std::string& group, const pipeline::reset_request& request,
                              const pipeline::reset_result& result);
std::string redrive_result_json(const pipeline::redrive_result& result);

}  // namespace orderstream::http
