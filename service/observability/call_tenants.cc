#include "service/observability/call_tenants.h"

#include <cstdint>
#include <utility>

namespace artd::observability {

CallTenants::Shard& CallTenants::ShardOf(const grpc::ServerContextBase* call) {
  // Contexts are heap objects: the low bits are alignment, the next ones spread well enough.
  return shards_[(reinterpret_cast<uintptr_t>(call) >> 6) % kShards];
}

void CallTenants::Record(const grpc::ServerContextBase* call, const std::string& tenant) {
  Shard& shard = ShardOf(call);
  absl::MutexLock lock(&shard.mutex);
  shard.tenants.insert_or_assign(call, tenant);
}

std::string CallTenants::Take(const grpc::ServerContextBase* call) {
  Shard& shard = ShardOf(call);
  absl::MutexLock lock(&shard.mutex);
  auto found = shard.tenants.find(call);
  if (found == shard.tenants.end()) return std::string();
  std::string tenant = std::move(found->second);
  shard.tenants.erase(found);
  return tenant;
}

}  // namespace artd::observability
