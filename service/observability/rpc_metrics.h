// Prometheus metrics of gRPC calls: counts and latency by method and status code, and commit
// conflicts (SubmitCommit calls that lost the epoch race: ABORTED). Label values come from fixed
// sets: the methods named at construction (any other method is "other") and the 17 status codes.
#ifndef SERVICE_OBSERVABILITY_RPC_METRICS_H_
#define SERVICE_OBSERVABILITY_RPC_METRICS_H_

#include <grpcpp/support/status.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace artd::observability {

inline constexpr char kSubmitCommitMethod[] = "/art.v1.Groups/SubmitCommit";

class RpcMetrics {
 public:
  // |methods| are full gRPC method names ("/package.Service/Method"). The metric families are added
  // to |registry|, which must outlive this object.
  RpcMetrics(prometheus::Registry& registry, const std::vector<std::string>& methods);

  // The slot of |method| (that of "other" when it is not known). Cheap; call once per call.
  int MethodSlot(std::string_view method) const;

  // Counts one finished call of the method in |slot|. Lock-free once the (method, code) series
  // exists; the first call of a pair creates it.
  void Record(int slot, grpc::StatusCode code, double seconds);

 private:
  static constexpr int kCodes = 17;  // OK .. UNAUTHENTICATED.
  struct Series {
    std::atomic<prometheus::Counter*> calls{nullptr};
    std::atomic<prometheus::Histogram*> latency{nullptr};
  };
  using MethodSeries = std::array<Series, kCodes>;

  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Counter& commit_conflicts_;
  std::vector<std::string> names_;  // By slot; the last is "other".
  absl::flat_hash_map<std::string, int> slots_;
  std::unique_ptr<MethodSeries[]> series_;
  int submit_commit_slot_ = -1;
};

// Every method of the art.v1 services, the health service and the reflection service: the methods
// artd serves, for RpcMetrics.
std::vector<std::string> ServedMethodNames();

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_RPC_METRICS_H_
