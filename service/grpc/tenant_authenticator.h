// Tenant authentication: every call carries "authorization: Bearer <api key>". Only a SHA-256 hash
// of each key is stored; a key is "artd_<key id>_<64 hex digits>", the key id naming it for
// revocation. Also enforces the per-tenant request rate of this replica.
#ifndef SERVICE_GRPC_TENANT_AUTHENTICATOR_H_
#define SERVICE_GRPC_TENANT_AUTHENTICATOR_H_

#include <map>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/store.h"

namespace artd {

// A freshly issued key: |key| is shown once to the operator, |hash| is what is stored.
struct IssuedApiKey {
  std::string key_id;
  std::string key;
  Bytes hash;
};

// Creates a new random API key.
absl::StatusOr<IssuedApiKey> NewApiKey();

// SHA-256 of an API key, as stored.
Bytes HashApiKey(const std::string& key);

class TenantAuthenticator {
 public:
  // |requests_per_second| 0 disables rate limiting. A key looked up is remembered for |cache_ttl|
  // (zero: every call reads the store), so a revoked key stops working within that time.
  TenantAuthenticator(Store* store, uint32_t requests_per_second, absl::Duration cache_ttl)
      : store_(store), requests_per_second_(requests_per_second), cache_ttl_(cache_ttl) {}

  // The tenant of the call's API key: UNAUTHENTICATED when the header is missing, malformed, or
  // names no live key; RESOURCE_EXHAUSTED when the tenant is over its rate.
  absl::StatusOr<std::string> Authenticate(const grpc::ServerContext& context);

 private:
  absl::Status ChargeRequest(const std::string& tenant);

  Store* store_;
  uint32_t requests_per_second_;
  absl::Mutex mutex_;
  // Token buckets per tenant: tokens and the time they were last refilled.
  struct Bucket {
    double tokens = 0;
    absl::Time refilled;
  };
  std::map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mutex_);
  absl::Duration cache_ttl_;
  struct CachedKey {
    std::string tenant;
    absl::Time expires;
  };
  std::map<Bytes, CachedKey> key_cache_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace artd

#endif  // SERVICE_GRPC_TENANT_AUTHENTICATOR_H_
