// Terminal lines as JSON; see outputs_json.hpp.
#include "http/outputs_json.hpp"

#include <charconv>

#include "http/json_writer.hpp"

namespace orderstream::http {
namespace {

void append_number(std::string& out, std::uint64_t value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, end);
}

void append_line(std::string& out, const capture::line_entry& entry, bool with_seq, bool plain,
                 std::string& scratch) {
    if (with_seq) {
        out.append("{\"seq\":");
        append_number(out, entry.seq);
        out.append(",\"timestamp\":\"");
    } else {
        out.append("{\"timestamp\":\"");
    }
    out.append(entry.timestamp, 8);
    out.append("\",\"line\":");
    append_json_string(out, plain ? strip_ansi(entry.text, scratch) : std::string_view(entry.text));
    out.push_back('}');
}

// Room for the lines newer than `since` only: an SSE client's buffer keeps its capacity, so
// reserving for whole rings on every event would pin that much memory per client.
std::size_t estimate(const capture::output_store& store, std::uint64_t since) {
    std::size_t bytes = 64;
    for (const auto& t : store.terminals())
        bytes += 32 + (t.lines.size() - (since ? t.lines.first_after(since) : 0)) * 112;
    return bytes;
}

void write_terminals(const capture::output_store& store, std::uint64_t since, bool with_seq, bool plain,
                     std::string& out) {
    std::string scratch;
    out.push_back('{');
    const auto& terminals = store.terminals();
    for (std::size_t i = 0; i < terminals.size(); ++i) {
        const auto& ring = terminals[i].lines;
        if (i) out.push_back(',');
        append_json_string(out, terminals[i].name);
        out.append(":[");
        std::size_t first = since ? ring.first_after(since) : 0;
        for (std::size_t k = first; k < ring.size(); ++k) {
            if (k != first) out.push_back(',');
            append_line(out, ring.at(k), with_seq, plain, scratch);
        }
        out.push_back(']');
    }
    out.push_back('}');
}

}  // namespace

void write_outputs(const capture::output_store& store, bool plain, std::string& out) {
    out.reserve(out.size() + estimate(store, 0));
    write_terminals(store, 0, false, plain, out);
}

void write_outputs_since(const capture::output_store& store, std::uint64_t since, bool plain, std::string& out) {
    out.reserve(out.size() + estimate(store, since));
    out.append("{\"instance\":\"");
    out.append(store.instance());  // hex digits: nothing to escape
    out.append("\",\"seq\":");
    append_number(out, store.last_seq());
    out.append(",\"terminals\":");
    write_terminals(store, since, true, plain, out);
    out.append(",\"dropped\":{");
    const auto& terminals = store.terminals();
    for (std::size_t i = 0; i < terminals.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, terminals[i].name);
        out.push_back(':');
        append_number(out, terminals[i].lines.dropped());
    }
    out.append("},\"missed\":[");
    bool first = true;
    for (const auto& t : terminals) {
        if (t.lines.last_dropped_seq() <= since) continue;
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, t.name);
    }
    out.append("]}");
}

}  // namespace orderstream::http
