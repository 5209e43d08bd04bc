// See group_reader.hpp.
#include "kafka/group_reader.hpp"

#include <librdkafka/rdkafka.h>

#include "kafka/member_assignment.hpp"

namespace orderstream::kafka {
namespace {

struct partitions_deleter {
    void operator()(std::vector<RdKafka::TopicPartition*>* parts) const { RdKafka::TopicPartition::destroy(*parts); }
};

struct group_list_deleter {
    void operator()(const rd_kafka_group_list* list) const { rd_kafka_group_list_destroy(list); }
};

std::string text(const char* s) { return s ? s : ""; }

}  // namespace

group_reader::group_reader(client_factory make_client, std::chrono::milliseconds timeout)
    : make_client_(std::move(make_client)), timeout_(timeout) {}

group_reader::~group_reader() {
    for (auto& [group, client] : clients_) client->close();
}

RdKafka::KafkaConsumer* group_reader::client(const std::string& group, std::string& error) {
    auto& client = clients_[group];
    if (!client) client = make_client_(group, error);
    if (!client) clients_.erase(group);
    return client ? client.get() : nullptr;
}

void group_reader::forget(const std::string& group) {
    auto found = clients_.find(group);
    if (found == clients_.end()) return;
    found->second->close();
    clients_.erase(found);
}

std::optional<std::string> group_reader::committed(const std::string& group, const std::string& topic,
                                                    const std::vector<std::int32_t>& partitions,
                                                    std::vector<pipeline::group_partition>& out) {
    std::string error;
    auto* consumer = client(group, error);
    if (!consumer) return "cannot make a client: " + error;
    std::vector<RdKafka::TopicPartition*> parts;
    std::unique_ptr<std::vector<RdKafka::TopicPartition*>, partitions_deleter> owned(&parts);
    for (auto partition : partitions) parts.push_back(RdKafka::TopicPartition::create(topic, partition));
    if (auto err = consumer->committed(parts, static_cast<int>(timeout_.count())); err != RdKafka::ERR_NO_ERROR)
        return RdKafka::err2str(err);
    out.clear();
    for (const auto* p : parts) {
        if (p->err() != RdKafka::ERR_NO_ERROR) return RdKafka::err2str(p->err());
        out.push_back({p->partition(), p->offset() >= 0 ? p->offset() : -1, -1});
    }
    return std::nullopt;
}

std::optional<std::string> group_reader::describe(const std::string& topic, pipeline::group_snapshot& snapshot) {
    std::string error;
    auto* consumer = client(snapshot.group, error);
    if (!consumer) return "cannot make a client: " + error;
    const rd_kafka_group_list* raw = nullptr;
    auto err = rd_kafka_list_groups(consumer->c_ptr(), snapshot.group.c_str(), &raw, static_cast<int>(timeout_.count()));
    std::unique_ptr<const rd_kafka_group_list, group_list_deleter> list(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::string(rd_kafka_err2str(err));
    if (!list || list->group_cnt != 1) return "no result for the group";
    const auto& info = list->groups[0];
    if (info.err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::string(rd_kafka_err2str(info.err));
    snapshot.described = true;
    snapshot.state = text(info.state);
    snapshot.members.clear();
    for (int i = 0; i < info.member_cnt; ++i) {
        const auto& member = info.members[i];
        pipeline::group_member m{text(member.member_id), text(member.client_id), text(member.client_host), {}};
        if (auto partitions = assigned_partitions(member.member_assignment,
                                                  static_cast<std::size_t>(std::max(0, member.member_assignment_size)), topic))
            m.partitions = std::move(*partitions);
        snapshot.members.push_back(std::move(m));
    }
    return std::nullopt;
}

}  // namespace orderstream::kafka
