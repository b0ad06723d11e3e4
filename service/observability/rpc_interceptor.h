// The gRPC server interceptor that observes every call, so handlers stay thin: it gives the call a
// request id (adopting a well-formed "x-request-id" from the client, else a new one) and returns it
// as response metadata "x-request-id", records the call in RpcMetrics, and writes one access log
// line when the call ends. It reads only the method name, the request id, the status code, the peer
// address and the tenant the authenticator recorded in CallTenants: never messages or other metadata.
#ifndef SERVICE_OBSERVABILITY_RPC_INTERCEPTOR_H_
#define SERVICE_OBSERVABILITY_RPC_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "service/observability/call_tenants.h"
#include "service/observability/log_line.h"
#include "service/observability/log_sink.h"
#include "service/observability/rpc_metrics.h"

namespace artd::observability {

class RpcObserverFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // All must outlive the server. |access_log| nullptr: no access log.
  RpcObserverFactory(RpcMetrics* metrics, CallTenants* tenants, LogSink* access_log, LogFormat format)
      : metrics_(metrics), tenants_(tenants), access_log_(access_log), format_(format) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;

 private:
  RpcMetrics* metrics_;
  CallTenants* tenants_;
  LogSink* access_log_;
  LogFormat format_;
};

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_RPC_INTERCEPTOR_H_
