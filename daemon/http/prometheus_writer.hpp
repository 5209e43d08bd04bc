// Writes metrics in the Prometheus text exposition format (version 0.0.4).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace orderstream::http {

class prometheus_writer {
public:
    using labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

    // Starts a metric family: its HELP and TYPE lines ("counter" or "gauge").
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, labels label_set, double value);
    void sample(std::string_view name, double value) { sample(name, {}, value); }

    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

}  // namespace orderstream::http
