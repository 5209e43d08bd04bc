// The operator's actions that need both ends at once, the processes and Kafka: replaying a
// group (stop the daemon's consumers of it, move its committed offsets, start them again) and
// redriving dead letters. The Kafka calls block, so they run on a worker thread of their own;
// everything else, and every answer, happens on the event loop. One action at a time: a second
// one is refused while the first runs.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "kafka/client_options.hpp"
#include "pipeline/operator_requests.hpp"
#include "pipeline/pipeline_state.hpp"
#include "supervision/supervisor.hpp"

namespace orderstream::app {

struct operator_scope {
    kafka::client_options kafka;
    std::string topic;              // the orders topic the groups read
    std::string dead_letter_topic;
    std::string acks_topic;         // where a reset leaves its marker ("" for none)
    std::string hostname;           // to tell the daemon's group members from others'
    bool embedded = false;          // librdkafka's mock cluster (see kafka::reset_marker)
    std::chrono::milliseconds kafka_timeout{10000};
};

class operator_actions {
public:
    operator_actions(boost::asio::io_context& io, supervision::supervisor& supervisor, pipeline::pipeline_state& pipeline,
                     operator_scope scope);
    ~operator_actions();

    void reset(const std::string& group, pipeline::reset_request request,
               std::function<void(pipeline::reset_result)> done);
    void redrive(pipeline::redrive_request request, std::function<void(pipeline::redrive_result)> done);

private:
    struct reset_job;
    // Copies of the configured processes that consume `group`.
    std::vector<supervision::supervised_process*> copies_of(const std::string& group);
    // Members of the group the daemon does not run, as the cluster last described it.
    std::vector<std::string> foreign_members(const std::string& group);
    std::optional<std::string> busy_reason() const;
    void wait_stopped(std::shared_ptr<reset_job> job);
    void commit_reset(std::shared_ptr<reset_job> job);
    void finish_reset(std::shared_ptr<reset_job> job, pipeline::reset_result result);

    boost::asio::io_context& io_;
    supervision::supervisor& supervisor_;
    pipeline::pipeline_state& pipeline_;
    operator_scope scope_;
    std::string running_;  // the action in progress, for the refusal of another
    boost::asio::steady_timer poll_;
    boost::asio::io_context worker_io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> worker_guard_;
    std::thread worker_;
};

}  // namespace orderstream::app
