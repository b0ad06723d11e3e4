#include "bench/load/load_run.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "bench/load/spawned_artd.h"

namespace artd::load {
namespace {

double OwnCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct CpuSample {
  double client = 0;
  double server = -1;
};

CpuSample SampleCpu(const std::vector<pid_t>& server_pids) {
  CpuSample sample;
  sample.client = OwnCpuSeconds();
  double server_total = 0;
  for (const pid_t pid : server_pids) {
    absl::StatusOr<double> server = ProcessCpuSeconds(pid);
    if (!server.ok()) return sample;  // A partial sum would understate the servers' CPU.
    server_total += *server;
  }
  if (!server_pids.empty()) sample.server = server_total;
  return sample;
}

// The nearest-rank percentile of sorted |values| (nanoseconds), in milliseconds.
double PercentileMs(const std::vector<int64_t>& sorted, double quantile) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(quantile * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1e6;
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

// The floor's calls per second when |results| starts with it, else 0.
double FloorRate(const std::vector<ModeResult>& results) {
  return !results.empty() && results[0].mode == "floor" ? results[0].ops_per_second : 0;
}

// Server CPU-microseconds per operation; -1 when unknown.
double ServerMicrosPerOp(const ModeResult& result) {
  if (result.server_cpu_cores < 0 || result.operations == 0) return -1;
  return result.server_cpu_cores * result.seconds / static_cast<double>(result.operations) * 1e6;
}

// Client and server CPU-microseconds per operation (this machine's whole cost of one); -1 when the
// server's share is unknown.
double TotalMicrosPerOp(const ModeResult& result) {
  if (result.server_cpu_cores < 0 || result.operations == 0) return -1;
  return (result.client_cpu_cores + result.server_cpu_cores) * result.seconds /
         static_cast<double>(result.operations) * 1e6;
}

// The CPU per operation the mode's target allows: client and server share the machine, so when both
// modes keep it equally busy, a mode reaches ratio r of the floor only if one of its operations costs
// at most 1/r of the floor's call. -1 without a target or a measured floor.
double BudgetMicrosPerOp(const std::vector<ModeResult>& results, const ModeResult& result) {
  const double target = TargetFor(result.mode).min_floor_ratio;
  if (target <= 0 || results.empty() || results[0].mode != "floor") return -1;
  const double floor_cost = TotalMicrosPerOp(results[0]);
  return floor_cost < 0 ? -1 : floor_cost / target;
}

std::string MicrosText(double micros) { return micros >= 0 ? absl::StrFormat("%.0f", micros) : "-"; }

}  // namespace

Target TargetFor(const std::string& mode) {
  // From the service load issue: durable commits at >= 25% of the floor's calls per second, message
  // posts at >= 50%, p99 under 20 ms at 64 concurrent clients.
  if (mode == "commits") return {0.25, 20};
  if (mode == "posts") return {0.50, 20};
  return {};
}

absl::StatusOr<ModeResult> RunClients(const std::string& mode, std::vector<Step> steps, const RunLimits& limits) {
  const absl::Time measure_start = absl::Now() + limits.warmup;
  const absl::Time deadline = measure_start + limits.duration;
  std::atomic<bool> stop{false};
  std::atomic<bool> ran_out{false};
  std::atomic<int64_t> ran_out_at{0};  // Unix nanoseconds.
  std::atomic<uint64_t> counted{0};
  std::vector<std::vector<int64_t>> latencies(steps.size());
  std::vector<uint64_t> uncounted(steps.size(), 0);
  absl::Mutex error_mutex;
  absl::Status first_error;

  std::vector<std::thread> threads;
  for (size_t i = 0; i < steps.size(); ++i) {
    threads.emplace_back([&, i] {
      while (!stop.load(std::memory_order_relaxed)) {
        const absl::Time before = absl::Now();
        if (before >= deadline) break;
        absl::StatusOr<std::optional<absl::Duration>> done = steps[i]();
        if (absl::IsOutOfRange(done.status())) {
          // This client has no prepared work left: the window ends for everyone, so that the
          // concurrency stays what was asked for.
          if (!ran_out.exchange(true)) ran_out_at = absl::ToUnixNanos(absl::Now());
          stop = true;
          break;
        }
        if (!done.ok()) {
          absl::MutexLock lock(&error_mutex);
          if (first_error.ok()) first_error = done.status();
          stop = true;
          break;
        }
        if (before < measure_start) continue;
        if (!done->has_value()) {
          ++uncounted[i];
          continue;
        }
        if (counted.fetch_add(1) >= limits.max_operations) {
          stop = true;
          break;
        }
        latencies[i].push_back(absl::ToInt64Nanoseconds(**done));
      }
    });
  }
  absl::SleepFor(measure_start - absl::Now());
  const CpuSample cpu_before = SampleCpu(limits.server_pids);
  for (std::thread& thread : threads) thread.join();
  // When a client ran out, operations still in flight then finish after it: the window is the time
  // until all threads stopped, which counts them.
  const absl::Time end = absl::Now();
  const CpuSample cpu_after = SampleCpu(limits.server_pids);
  if (!first_error.ok()) {
    return absl::Status(first_error.code(), absl::StrCat(mode, ": ", first_error.message()));
  }
  if (ran_out && absl::FromUnixNanos(ran_out_at) < measure_start) {
    return absl::FailedPreconditionError(
        absl::StrCat(mode, ": a client used up its prepared requests during the warm-up; prepare more"));
  }

  std::vector<int64_t> all;
  ModeResult result;
  result.mode = mode;
  result.ended_early = ran_out;
  for (size_t i = 0; i < steps.size(); ++i) {
    all.insert(all.end(), latencies[i].begin(), latencies[i].end());
    result.uncounted_steps += uncounted[i];
  }
  std::sort(all.begin(), all.end());
  result.operations = all.size();
  result.seconds = std::max(absl::ToDoubleSeconds(end - measure_start), 1e-9);
  result.ops_per_second = static_cast<double>(result.operations) / result.seconds;
  result.p50_ms = PercentileMs(all, 0.50);
  result.p99_ms = PercentileMs(all, 0.99);
  result.p999_ms = PercentileMs(all, 0.999);
  result.client_cpu_cores = (cpu_after.client - cpu_before.client) / result.seconds;
  if (cpu_before.server >= 0 && cpu_after.server >= 0) {
    result.server_cpu_cores = (cpu_after.server - cpu_before.server) / result.seconds;
  }
  return result;
}

std::string FormatTable(const RunDescription& run, const std::vector<ModeResult>& results) {
  std::string table = absl::StrFormat(
      "artd load: target %s, %d clients over %d channels, %d groups x %d members, %g s per mode\n\n",
      run.target, run.concurrency, run.channels, run.groups, run.members_per_group, run.duration_seconds);
  absl::StrAppend(&table,
                  "| mode | ops | window s | ops/s | x floor | target | met | p50 ms | p99 ms | p999 ms | p99 < 20 ms | "
                  "retries | client CPU (cores) | artd CPU (cores) | artd CPU us/op | all CPU us/op | budget us/op |\n",
                  "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
  const double floor = FloorRate(results);
  for (const ModeResult& result : results) {
    const Target target = TargetFor(result.mode);
    const double ratio = floor > 0 ? result.ops_per_second / floor : 0;
    const std::string ratio_text = floor > 0 ? absl::StrFormat("%.3f", ratio) : "-";
    const std::string target_text = target.min_floor_ratio > 0 ? absl::StrFormat(">= %.2f", target.min_floor_ratio) : "";
    const std::string met_text = target.min_floor_ratio > 0 && floor > 0 ? YesNo(ratio >= target.min_floor_ratio) : "";
    const std::string p99_text = target.max_p99_ms > 0 ? YesNo(result.p99_ms < target.max_p99_ms) : "";
    absl::StrAppendFormat(&table, "| %s | %d | %s | %.0f | %s | %s | %s | %.2f | %.2f | %.2f | %s | %d | %.2f | %s | %s | %s | %s |\n",
                          result.mode, result.operations,
                          absl::StrFormat(result.ended_early ? "%.1f (prepared work used up)" : "%.1f", result.seconds),
                          result.ops_per_second, ratio_text, target_text, met_text,
                          result.p50_ms, result.p99_ms, result.p999_ms, p99_text, result.uncounted_steps,
                          result.client_cpu_cores,
                          result.server_cpu_cores >= 0 ? absl::StrFormat("%.2f", result.server_cpu_cores) : "-",
                          MicrosText(ServerMicrosPerOp(result)), MicrosText(TotalMicrosPerOp(result)),
                          MicrosText(BudgetMicrosPerOp(results, result)));
  }
  absl::StrAppend(&table,
                  "\nall CPU us/op: client and artd together per operation. budget us/op: what the target allows "
                  "when both share these cores (the floor's all CPU us/op divided by the target ratio).\n");
  return table;
}

std::string FormatJson(const RunDescription& run, const std::vector<ModeResult>& results) {
  std::string json = absl::StrFormat(
      "{\"target\": \"%s\", \"concurrency\": %d, \"channels\": %d, \"groups\": %d, \"members_per_group\": %d, "
      "\"duration_seconds\": %g, \"modes\": [",
      run.target, run.concurrency, run.channels, run.groups, run.members_per_group, run.duration_seconds);
  const double floor = FloorRate(results);
  for (size_t i = 0; i < results.size(); ++i) {
    const ModeResult& result = results[i];
    const Target target = TargetFor(result.mode);
    const double ratio = floor > 0 ? result.ops_per_second / floor : 0;
    absl::StrAppendFormat(
        &json,
        "%s\n  {\"mode\": \"%s\", \"operations\": %d, \"seconds\": %.3f, \"ops_per_second\": %.1f, "
        "\"floor_ratio\": %.4f, \"target_floor_ratio\": %g, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, "
        "\"target_p99_ms\": %g, \"retries\": %d, \"client_cpu_cores\": %.3f, \"server_cpu_cores\": %.3f, "
        "\"server_cpu_us_per_op\": %.1f, \"all_cpu_us_per_op\": %.1f, \"budget_cpu_us_per_op\": %.1f, "
        "\"ended_early\": %s}",
        i == 0 ? "" : ",", result.mode, result.operations, result.seconds, result.ops_per_second, ratio,
        target.min_floor_ratio, result.p50_ms, result.p99_ms, result.p999_ms, target.max_p99_ms,
        result.uncounted_steps, result.client_cpu_cores, result.server_cpu_cores, ServerMicrosPerOp(result),
        TotalMicrosPerOp(result), BudgetMicrosPerOp(results, result), result.ended_early ? "true" : "false");
  }
  absl::StrAppend(&json, "\n]}\n");
  return json;
}

}  // namespace artd::load
