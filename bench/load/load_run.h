// The measured phase of the load tool: |concurrency| client threads each repeat one operation until
// a deadline or an operation budget, the latency of each successful operation is recorded, and the
// results are summarized as throughput and percentiles (with the CPU both processes used meanwhile).
#ifndef BENCH_LOAD_LOAD_RUN_H_
#define BENCH_LOAD_LOAD_RUN_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace artd::load {

// One client step: the latency of the one RPC that completed an operation, or nullopt when the step
// did work that does not count (e.g. catching up after a commit lost its epoch), or OUT_OF_RANGE
// when the client has no prepared work left (the measured window then ends), or an error that ends
// the run.
using Step = std::function<absl::StatusOr<std::optional<absl::Duration>>()>;

struct RunLimits {
  absl::Duration warmup;    // Operations before this are done but neither timed nor counted.
  absl::Duration duration;  // The measured window after the warm-up.
  uint64_t max_operations = 0;
  std::vector<pid_t> server_pids;  // When known, the servers' CPU (summed over replicas) is reported too.
};

struct ModeResult {
  std::string mode;
  uint64_t operations = 0;
  uint64_t uncounted_steps = 0;  // Steps that returned nullopt during the measured window.
  double seconds = 0;
  double ops_per_second = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0;
  double client_cpu_cores = 0;   // CPU-seconds per second of this process during the window.
  double server_cpu_cores = -1;  // Same for artd (all replicas); -1 when unknown (not spawned by us).
  bool ended_early = false;      // A client used up its prepared requests before the duration.
};

// Runs |steps| (one per client thread) within |limits|.
absl::StatusOr<ModeResult> RunClients(const std::string& mode, std::vector<Step> steps, const RunLimits& limits);

// Targets from the issue: throughput as a share of the floor's calls per second, and p99.
struct Target {
  double min_floor_ratio = 0;  // 0: none.
  double max_p99_ms = 0;       // 0: none.
};
Target TargetFor(const std::string& mode);

struct RunDescription {
  std::string target;
  int concurrency = 0;
  int channels = 0;
  int groups = 0;
  int members_per_group = 0;
  double duration_seconds = 0;
};

// |results| starts with the floor when it was measured; ratios are to it.
std::string FormatTable(const RunDescription& run, const std::vector<ModeResult>& results);
std::string FormatJson(const RunDescription& run, const std::vector<ModeResult>& results);

}  // namespace artd::load

#endif  // BENCH_LOAD_LOAD_RUN_H_
