// See group_reader.hpp.
#include "kafka/group_reader.hpp"

namespace orderstream::kafka {
namespace {

struct partition_list_deleter {
    void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
};

std::string text(const char* s) { return s ? s : ""; }

std::optional<std::string> event_error(rd_kafka_event_t* event) {
    if (!event) return "no answer in time";
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::string(rd_kafka_event_error_string(event));
    return std::nullopt;
}

}  // namespace

group_reader::group_reader(rd_kafka_t* client, std::chrono::milliseconds timeout)
    : client_(client), timeout_(timeout) {}

group_reader::options_ptr group_reader::options(rd_kafka_admin_op_t op) const {
    options_ptr opts(rd_kafka_AdminOptions_new(client_, op));
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(opts.get(), static_cast<int>(timeout_.count()), errstr, sizeof errstr);
    return opts;
}

group_reader::event_ptr group_reader::wait(rd_kafka_queue_t* queue) const {
    // A little longer than the request timeout, so the request's own timeout answers first.
    return event_ptr(rd_kafka_queue_poll(queue, static_cast<int>(timeout_.count()) + 1000));
}

std::optional<std::string> group_reader::committed(const std::string& group, const std::string& topic,
                                                    const std::vector<std::int32_t>& partitions,
                                                    std::vector<pipeline::group_partition>& out) {
    std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter> wanted(
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (auto partition : partitions) rd_kafka_topic_partition_list_add(wanted.get(), topic.c_str(), partition);
    rd_kafka_ListConsumerGroupOffsets_t* request = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), wanted.get());
    auto opts = options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    auto queue = new_queue();
    rd_kafka_ListConsumerGroupOffsets(client_, &request, 1, opts.get(), queue.get());
    rd_kafka_ListConsumerGroupOffsets_destroy(request);

    auto event = wait(queue.get());
    if (auto failure = event_error(event.get())) return failure;
    const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(event.get());
    if (!result) return "unexpected answer";
    std::size_t count = 0;
    const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &count);
    if (count != 1) return "no result for the group";
    if (const auto* error = rd_kafka_group_result_error(groups[0])) return std::string(rd_kafka_error_string(error));
    const auto* list = rd_kafka_group_result_partitions(groups[0]);
    out.clear();
    for (int i = 0; list && i < list->cnt; ++i) {
        const auto& p = list->elems[i];
        if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::string(rd_kafka_err2str(p.err));
        out.push_back({p.partition, p.offset >= 0 ? p.offset : -1, -1});
    }
    return std::nullopt;
}

std::optional<std::string> group_reader::describe(const std::string& topic, pipeline::group_snapshot& snapshot) {
    const char* names[] = {snapshot.group.c_str()};
    auto opts = options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    auto queue = new_queue();
    rd_kafka_DescribeConsumerGroups(client_, names, 1, opts.get(), queue.get());
    auto event = wait(queue.get());
    if (auto failure = event_error(event.get())) return failure;
    const auto* result = rd_kafka_event_DescribeConsumerGroups_result(event.get());
    if (!result) return "unexpected answer";
    std::size_t count = 0;
    const auto** groups = rd_kafka_DescribeConsumerGroups_result_groups(result, &count);
    if (count != 1) return "no result for the group";
    if (const auto* error = rd_kafka_ConsumerGroupDescription_error(groups[0]))
        return std::string(rd_kafka_error_string(error));
    snapshot.described = true;
    snapshot.state = text(rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(groups[0])));
    snapshot.members.clear();
    for (std::size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(groups[0]); ++i) {
        const auto* member = rd_kafka_ConsumerGroupDescription_member(groups[0], i);
        pipeline::group_member m{text(rd_kafka_MemberDescription_consumer_id(member)),
                                 text(rd_kafka_MemberDescription_client_id(member)),
                                 text(rd_kafka_MemberDescription_host(member)), {}};
        const auto* assignment = rd_kafka_MemberDescription_assignment(member);
        const auto* list = assignment ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
        for (int j = 0; list && j < list->cnt; ++j)
            if (list->elems[j].topic && topic == list->elems[j].topic) m.partitions.push_back(list->elems[j].partition);
        snapshot.members.push_back(std::move(m));
    }
    return std::nullopt;
}

}  // namespace orderstream::kafka
