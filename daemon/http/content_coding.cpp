// Accept-Encoding parsing and gzip; see content_coding.hpp.
#include "http/content_coding.hpp"

#include <algorithm>
#include <limits>

#include <zlib.h>

namespace orderstream::http {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

// The q-value of one entry's parameters ("q=0.5"): 1 when none is given, 0 when it cannot be read
// (a client that writes a q-value we cannot read gets the identity, which is always safe).
double q_value(std::string_view params) {
    while (!params.empty()) {
        auto semicolon = params.find(';');
        auto param = trim(params.substr(0, semicolon));
        params = semicolon == std::string_view::npos ? std::string_view{} : params.substr(semicolon + 1);
        if (param.size() < 2 || (param[0] | 0x20) != 'q' || param[1] != '=') continue;
        auto value = param.substr(2);
        // RFC 9110: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        if (value.empty() || (value[0] != '0' && value[0] != '1')) return 0;
        if (value.size() == 1) return value[0] - '0';
        if (value[1] != '.' || value.size() > 5) return 0;
        double q = value[0] - '0', scale = 0.1;
        for (char c : value.substr(2)) {
            if (c < '0' || c > '9') return 0;
            q += (c - '0') * scale;
            scale /= 10;
        }
        return q > 1 ? 0 : q;
    }
    return 1;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
    double gzip_q = -1, any_q = -1;
    while (!accept_encoding.empty()) {
        auto comma = accept_encoding.find(',');
        auto entry = accept_encoding.substr(0, comma);
        accept_encoding = comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
        auto semicolon = entry.find(';');
        auto coding = trim(entry.substr(0, semicolon));
        auto q = q_value(semicolon == std::string_view::npos ? std::string_view{} : entry.substr(semicolon + 1));
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip"))
            gzip_q = std::max(gzip_q, q);
        else if (coding == "*")
            any_q = std::max(any_q, q);
    }
    return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}

std::optional<std::string> gzip(std::string_view body, int level) {
    if (body.size() > std::numeric_limits<uInt>::max() / 2) return std::nullopt;
    z_stream stream{};
    // 15 + 16: a gzip header and trailer around the deflate stream; memLevel 8 is zlib's default.
    if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
    std::string out(deflateBound(&stream, static_cast<uLong>(body.size())), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    stream.avail_in = static_cast<uInt>(body.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    // deflateBound leaves room for the whole stream, so one Z_FINISH call ends it.
    const int status = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (status != Z_STREAM_END) return std::nullopt;
    return out;
}

}  // namespace orderstream::http
