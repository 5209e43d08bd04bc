// Checked librdkafka configuration built from client_options, so every command applies
// properties in the same order (bootstrap, its own defaults, the user's) and reports a bad one
// the same way.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "kafka/client_options.hpp"

namespace orderstream::kafka {

using property_list = std::vector<std::pair<std::string, std::string>>;

enum class client_kind { producer, consumer };

// bootstrap.servers from `options`, then `defaults`, then options.properties (so the user can
// override any default). options.properties are shared by every child, so those that only
// apply to the other kind of client (session.timeout.ms for a producer, say) are left out
// instead of making librdkafka warn about each one at every start. Returns nullptr with
// `error` naming the offending property.
std::unique_ptr<RdKafka::Conf> make_client_conf(const client_options& options, client_kind kind,
                                                const property_list& defaults, std::string& error);

// Whether librdkafka uses property `name` in a client of `kind`; true for unknown names, so
// that Conf::set gets to reject them with its own message.
bool applies_to(const std::string& name, client_kind kind);

// One checked Conf::set; on failure `error` says which property and why.
bool set_property(RdKafka::Conf& conf, const std::string& name, const std::string& value,
                  std::string& error);

// Conf::set for a callback object (DeliveryReportCb, EventCb, ...), checked the same way.
template <class Callback>
bool set_callback(RdKafka::Conf& conf, const std::string& name, Callback* cb, std::string& error) {
    std::string errstr;
    if (conf.set(name, cb, errstr) != RdKafka::Conf::CONF_OK) {
        error = "cannot set Kafka callback " + name + ": " + errstr;
        return false;
    }
    return true;
}

// librdkafka's own log and error events for the daemon's clients: to the "kafka" logger at
// debug level (a broker that is down shows on the dashboard; it should not flood the log), and
// the last authentication or TLS error kept, so "unreachable" can say why: credentials and
// certificates are the user's to fix.
class client_events : public RdKafka::EventCb {
public:
    void event_cb(RdKafka::Event& event) override;
    // The last authentication or TLS error since cluster_answered(); empty when none.
    std::string access_error();
    void cluster_answered();

private:
    std::mutex mutex_;  // librdkafka calls back from its own threads
    std::string last_access_error_;
};

}  // namespace orderstream::kafka
