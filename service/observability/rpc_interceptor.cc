#include "service/observability/rpc_interceptor.h"

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "service/observability/request_id.h"

namespace artd::observability {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";

// Codes that mean the server failed (rather than the client or the caller's state): logged as errors
// with the status message.
bool IsServerError(grpc::StatusCode code) {
  return code == grpc::UNKNOWN || code == grpc::INTERNAL || code == grpc::DATA_LOSS || code == grpc::UNAVAILABLE;
}

class RpcObserver final : public grpc::experimental::Interceptor {
 public:
  RpcObserver(grpc::experimental::ServerRpcInfo* info, RpcMetrics* metrics, CallTenants* tenants, LogSink* access_log,
              LogFormat format)
      : context_(info->server_context()),
        method_(info->method() != nullptr ? info->method() : ""),
        metrics_(metrics),
        tenants_(tenants),
        access_log_(access_log),
        format_(format),
        method_slot_(metrics->MethodSlot(method_)),
        started_(absl::Now()) {}

  ~RpcObserver() override {
    // A call torn down without a status (its client went away first) is still counted. The context
    // is being destroyed: only its address is used.
    if (!finished_) Finish(grpc::Status(grpc::CANCELLED, "call ended without a status"));
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      AdoptOrCreateRequestId(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (request_id_.empty()) request_id_ = NewRequestId();
      methods->GetSendInitialMetadata()->emplace(kRequestIdMetadata, request_id_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      peer_ = context_->peer();
      Finish(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void AdoptOrCreateRequestId(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    auto found = metadata.find(kRequestIdMetadata);
    if (found != metadata.end()) {
      const std::string_view incoming(found->second.data(), found->second.size());
      if (IsWellFormedRequestId(incoming)) request_id_.assign(incoming);
    }
    if (request_id_.empty()) request_id_ = NewRequestId();
  }

  void Finish(const grpc::Status& status) {
    finished_ = true;
    const absl::Duration elapsed = absl::Now() - started_;
    metrics_->Record(method_slot_, status.error_code(), absl::ToDoubleSeconds(elapsed));
    const std::string tenant = tenants_->Take(context_);
    if (access_log_ == nullptr) return;
    // Probes call Check every few seconds; their successes would drown the log (metrics count them).
    if (status.ok() && method_ == kHealthCheckMethod) return;
    const bool server_error = IsServerError(status.error_code());
    LogLine line(format_, server_error ? "error" : "info");
    line.Add("log", "access")
        .Add("request_id", request_id_)
        .Add("method", method_)
        .Add("tenant", tenant)
        .Add("code", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())))
        .AddFixed3("duration_ms", absl::ToDoubleMilliseconds(elapsed))
        .Add("peer", peer_);
    // Status messages name ids and limits, never key material (handlers and the core build them).
    if (server_error) line.Add("error", status.error_message());
    access_log_->Write(line.Finish());
  }

  const grpc::ServerContextBase* context_;
  const std::string_view method_;
  RpcMetrics* metrics_;
  CallTenants* tenants_;
  LogSink* access_log_;
  LogFormat format_;
  int method_slot_;
  absl::Time started_;
  std::string request_id_;
  std::string peer_;
  bool finished_ = false;
};

}  // namespace

grpc::experimental::Interceptor* RpcObserverFactory::CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) {
  return new RpcObserver(info, metrics_, tenants_, access_log_, format_);
}

}  // namespace artd::observability
