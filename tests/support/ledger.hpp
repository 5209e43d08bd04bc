// The consumers' own output as the tests' ledger: which orders each department processed, and
// how often, read from its terminal's lines (/api/outputs).
#pragma once

#include <map>

#include <nlohmann/json.hpp>

namespace orderstream::testing {

// Times each order id appears in a department's processing lines ("[shipping] order 1001 …"),
// copy tags ("shipping-2 | ") allowed.
std::map<long, int> processed_in(const nlohmann::json& lines);

}  // namespace orderstream::testing
