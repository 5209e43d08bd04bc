// The pipeline's figures in /metrics: the same accounting the page shows.
#pragma once

#include "http/prometheus_writer.hpp"
#include "pipeline/pipeline_state.hpp"

namespace orderstream::http {

void write_pipeline_metrics(const pipeline::pipeline_state& state, prometheus_writer& out);

}  // namespace orderstream::http
