// The consumers' own output as the tests' ledger (which orders each department processed, and
// how often, from its terminal's lines), and the dashboard's figures it is checked against.
#pragma once

#include <map>

#include <nlohmann/json.hpp>

#include "support/daemon_process.hpp"

namespace orderstream::testing {

// Times each order id appears in a department's processing lines ("[shipping] order 1001 …"),
// copy tags ("shipping-2 | ") allowed.
std::map<long, int> processed_in(const nlohmann::json& lines);

// The dashboard's side: one group of /api/groups, or null when it is not listed.
nlohmann::json group_named(const daemon_process& daemon, const std::string& name);

}  // namespace orderstream::testing
