// Prometheus text format; see prometheus_writer.hpp.
#include "http/prometheus_writer.hpp"

#include <cmath>
#include <cstdio>

namespace orderstream::http {
namespace {

void append_escaped(std::string& out, std::string_view text, bool quote_too) {
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '"' && quote_too) out += "\\\"";
        else out += c;
    }
}

}  // namespace

void prometheus_writer::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_escaped(out_, help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void prometheus_writer::sample(std::string_view name, labels label_set, double value) {
    out_ += name;
    if (label_set.size()) {
        out_ += '{';
        bool first = true;
        for (const auto& [key, text] : label_set) {
            if (!first) out_ += ',';
            first = false;
            out_ += key;
            out_ += "=\"";
            append_escaped(out_, text, true);
            out_ += '"';
        }
        out_ += '}';
    }
    char number[32];
    if (std::isnan(value)) std::snprintf(number, sizeof number, " NaN\n");
    else if (value == std::floor(value) && std::fabs(value) < 1e15) std::snprintf(number, sizeof number, " %.0f\n", value);
    else std::snprintf(number, sizeof number, " %.17g\n", value);
    out_ += number;
}

}  // namespace orderstream::http
