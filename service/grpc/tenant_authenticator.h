// Tenant authentication: a call carries "authorization: Bearer <api key>", or (when the server verifies
// client certificates) comes over mutual TLS with a client certificate bound to a tenant (see
// client_certificate.h). Only a SHA-256 hash of each key is stored; a key is
// "artd_<key id>_<64 hex digits>", the key id naming it for revocation. Also enforces the per-tenant
// request rate of this replica, whichever credential named the tenant.
#ifndef SERVICE_GRPC_TENANT_AUTHENTICATOR_H_
#define SERVICE_GRPC_TENANT_AUTHENTICATOR_H_

#include <map>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/observability/call_tenants.h"
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
  // |requests_per_second| 0 disables rate limiting. A key (or certificate) looked up is remembered
  // for |cache_ttl| (zero: every call reads the store), so a revoked key or an unbound certificate
  // stops working within that time.
  TenantAuthenticator(Store* store, uint32_t requests_per_second, absl::Duration cache_ttl)
      : store_(store), requests_per_second_(requests_per_second), cache_ttl_(cache_ttl) {}

  // Accept verified client certificates as credentials. Only for a server whose TLS verifies client
  // certificates against a CA: the certificate in the call's AuthContext is then one that chained.
  void TrustClientCertificates() { trust_client_certificates_ = true; }
  // Record each authenticated call's tenant in |call_tenants| (for the access log and metrics).
  void RecordTenantsIn(observability::CallTenants* call_tenants) { call_tenants_ = call_tenants; }

  // The tenant of the call: that of its API key when it sends "authorization" metadata (then the key
  // must be valid: UNAUTHENTICATED when malformed or unknown or revoked), else that of its verified
  // client certificate when trusted (UNAUTHENTICATED when not bound to a tenant), else
  // UNAUTHENTICATED. RESOURCE_EXHAUSTED when the tenant is over its rate.
  absl::StatusOr<std::string> Authenticate(const grpc::ServerContext& context);

 private:
  absl::StatusOr<std::string> TenantOfApiKey(const std::string& authorization);
  absl::StatusOr<std::string> TenantOfCertificate(std::string_view pem);
  // The tenant a credential names, from the cache or |lookup| (a Store query).
  template <typename Lookup>
  absl::StatusOr<std::string> CachedTenant(const Bytes& cache_key, Lookup&& lookup);
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
  bool trust_client_certificates_ = false;
  observability::CallTenants* call_tenants_ = nullptr;
  // By credential: 'k' + API key hash, or 'c' + certificate fingerprint.
  struct CachedKey {
    std::string tenant;
    absl::Time expires;
  };
  std::map<Bytes, CachedKey> key_cache_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace artd

#endif  // SERVICE_GRPC_TENANT_AUTHENTICATOR_H_
