#include "service/observability/rpc_metrics.h"

#include <google/protobuf/descriptor.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/art/v1/service.pb.h"

namespace artd::observability {
namespace {

// Seconds: from sub-millisecond reads to multi-second commits under contention.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

}  // namespace

RpcMetrics::RpcMetrics(prometheus::Registry& registry, const std::vector<std::string>& methods)
    : calls_(prometheus::BuildCounter()
                 .Name("artd_rpc_requests_total")
                 .Help("gRPC calls finished, by full method name and status code name")
                 .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("artd_rpc_duration_seconds")
                   .Help("gRPC call duration in seconds (for streams: until the stream ended)")
                   .Register(registry)),
      commit_conflicts_(prometheus::BuildCounter()
                            .Name("artd_commit_conflicts_total")
                            .Help("SubmitCommit calls that lost the epoch race (ABORTED)")
                            .Register(registry)
                            .Add({})),
      names_(methods) {
  names_.push_back("other");
  for (size_t i = 0; i + 1 < names_.size(); ++i) slots_.emplace(names_[i], static_cast<int>(i));
  series_ = std::make_unique<MethodSeries[]>(names_.size());
  submit_commit_slot_ = MethodSlot(kSubmitCommitMethod);
}

int RpcMetrics::MethodSlot(std::string_view method) const {
  auto found = slots_.find(absl::string_view(method.data(), method.size()));
  return found == slots_.end() ? static_cast<int>(names_.size() - 1) : found->second;
}

void RpcMetrics::Record(int slot, grpc::StatusCode code, double seconds) {
  const int code_index = (code >= 0 && code < kCodes) ? static_cast<int>(code) : static_cast<int>(grpc::UNKNOWN);
  Series& series = series_[slot][code_index];
  prometheus::Counter* calls = series.calls.load(std::memory_order_acquire);
  prometheus::Histogram* latency = series.latency.load(std::memory_order_acquire);
  if (calls == nullptr || latency == nullptr) {
    // Family::Add returns the existing series for the same labels, so racing first calls agree.
    const prometheus::Labels labels{{"method", names_[slot]},
                                    {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(code_index))}};
    calls = &calls_.Add(labels);
    latency = &latency_.Add(labels, LatencyBuckets());
    series.calls.store(calls, std::memory_order_release);
    series.latency.store(latency, std::memory_order_release);
  }
  calls->Increment();
  latency->Observe(seconds);
  if (slot == submit_commit_slot_ && code == grpc::ABORTED) commit_conflicts_.Increment();
}

std::vector<std::string> ServedMethodNames() {
  std::vector<std::string> names;
  const google::protobuf::FileDescriptor* file = ::art::v1::PublishIdentityRequest::descriptor()->file();
  for (int s = 0; s < file->service_count(); ++s) {
    const google::protobuf::ServiceDescriptor* service = file->service(s);
    for (int m = 0; m < service->method_count(); ++m) {
      names.push_back(absl::StrCat("/", service->full_name(), "/", service->method(m)->name()));
    }
  }
  names.push_back("/grpc.health.v1.Health/Check");
  names.push_back("/grpc.health.v1.Health/Watch");
  names.push_back("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
  return names;
}

}  // namespace artd::observability
