// Hands the tenant an authenticated call belongs to from the authenticator (inside the handler) to
// the call's interceptor (which logs and counts it), keyed by the call's ServerContext. gRPC 1.51
// gives an interceptor no slot to share with the handler, hence this small sharded map.
#ifndef SERVICE_OBSERVABILITY_CALL_TENANTS_H_
#define SERVICE_OBSERVABILITY_CALL_TENANTS_H_

#include <grpcpp/server_context.h>

#include <array>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace artd::observability {

class CallTenants {
 public:
  // Records |tenant| for the call; a later record for the same call replaces it.
  void Record(const grpc::ServerContextBase* call, const std::string& tenant);
  // The tenant recorded for the call (empty when none), forgetting it.
  std::string Take(const grpc::ServerContextBase* call);

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    absl::Mutex mutex;
    absl::flat_hash_map<const grpc::ServerContextBase*, std::string> tenants ABSL_GUARDED_BY(mutex);
  };
  Shard& ShardOf(const grpc::ServerContextBase* call);

  std::array<Shard, kShards> shards_;
};

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_CALL_TENANTS_H_
