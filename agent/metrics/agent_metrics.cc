#include "agent/metrics/agent_metrics.h"

namespace corral::agent {

AgentMetrics::AgentMetrics()
    : tasks_assigned(registry.gauge("corral_agent_tasks_assigned", "Tasks this collector runs now.")),
      lines_collected(registry.counter_family("corral_agent_collected_lines_total",
                                              "Lines this collector appended to its sink, by task "
                                              "(app/topic/machine-ip).",
                                              {"task"}, kMaxTaskSeries)),
      bytes_collected(registry.counter_family("corral_agent_collected_bytes_total",
                                              "Bytes this collector appended to its sink, by task.", {"task"},
                                              kMaxTaskSeries)),
      lag_bytes(registry.gauge_family("corral_agent_collection_lag_bytes",
                                      "Bytes the source holds past this collector's position, by task "
                                      "(as of the last fetch; 0 once the task left).",
                                      {"task"}, kMaxTaskSeries)),
      sink_write_seconds(registry.histogram("corral_agent_sink_write_duration_seconds",
                                            "Time of one append of a fetched batch to the sink.",
                                            metrics::latency_buckets())),
      sink_fsync_seconds(registry.histogram("corral_agent_sink_fsync_duration_seconds",
                                            "Time to make a task's sink durable before its checkpoint.",
                                            metrics::latency_buckets())),
      checkpoint_commits(registry.counter("corral_agent_checkpoint_commits_total",
                                          "Fenced checkpoints committed to the cluster.")),
      fences(registry.counter("corral_agent_checkpoint_fences_total",
                              "Checkpoints or releases refused because the task had moved on (fenced).")),
      fetch_errors(registry.counter("corral_agent_fetch_errors_total",
                                    "Fetches from sources that failed (source down, unknown stream or file).")),
      sink_errors(registry.counter("corral_agent_sink_errors_total",
                                   "Sink appends that failed (the task resumed from its checkpoint).")),
      source_files_open(registry.gauge("corral_agent_source_files_open",
                                       "Log files this source holds open, over all its streams.")) {}

}  // namespace corral::agent
