// The Prometheus metrics of one corral-agent (README "Metrics"), served by
// MetricsServer at /metrics when --metrics-listen is given. The collector
// counts into it from its loop thread; main sets the source's gauge.
// Per-task series are bounded (kMaxTaskSeries): past it, new tasks share one
// series labelled _overflow.
#pragma once

#include "coordinator/metrics/registry.h"

namespace corral::agent {

inline constexpr size_t kMaxTaskSeries = 1000;

struct AgentMetrics {
  AgentMetrics();
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  metrics::Registry registry;  // first: the references below point into it

  metrics::Gauge& tasks_assigned;
  metrics::Family<metrics::Counter>& lines_collected;  // task
  metrics::Family<metrics::Counter>& bytes_collected;  // task
  metrics::Family<metrics::Gauge>& lag_bytes;          // task
  metrics::Histogram& sink_write_seconds;
  metrics::Histogram& sink_fsync_seconds;
  metrics::Counter& checkpoint_commits;
  metrics::Counter& fences;
  metrics::Counter& fetch_errors;
  metrics::Counter& sink_errors;
  metrics::Gauge& source_files_open;
};

}  // namespace corral::agent
