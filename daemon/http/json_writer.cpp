// JSON string escaping and ANSI stripping; see json_writer.hpp.
#include "http/json_writer.hpp"

namespace orderstream::http {

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t clean_from = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(text.data() + clean_from, i - clean_from);
        clean_from = i + 1;
        switch (c) {
            case '"': out.append("\\\""); break;
            case '\\': out.append("\\\\"); break;
            case '\n': out.append("\\n"); break;
            case '\r': out.append("\\r"); break;
            case '\t': out.append("\\t"); break;
            default:
                out.append("\\u00");
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 0xF]);
        }
    }
    out.append(text.data() + clean_from, text.size() - clean_from);
    out.push_back('"');
}

std::string_view strip_ansi(std::string_view text, std::string& scratch) {
    if (text.find('\x1b') == std::string_view::npos) return text;
    scratch.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\x1b') {
            scratch.push_back(text[i]);
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '[') {
            // CSI: parameters and intermediates up to a final byte in @..~
            i += 2;
            while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
        } else if (i + 1 < text.size() && text[i + 1] == ']') {
            // OSC: up to BEL or ESC backslash
            i += 2;
            while (i < text.size() && text[i] != '\a' &&
                   !(text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '\\'))
                ++i;
            if (i < text.size() && text[i] == '\x1b') ++i;
        } else {
            ++i;  // a two-byte escape
        }
    }
    return scratch;
}

}  // namespace orderstream::http
