#include "service/grpc/tenant_authenticator.h"

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "art/crypto/bytes.h"
#include "art/crypto/hash.h"
#include "art/crypto/random.h"
#include "service/grpc/client_certificate.h"

namespace artd {

absl::StatusOr<IssuedApiKey> NewApiKey() {
  std::array<uint8_t, 8> id_bytes;
  std::array<uint8_t, 32> secret_bytes;
  if (absl::Status status = art::RandomFill(absl::MakeSpan(id_bytes)); !status.ok()) return status;
  if (absl::Status status = art::RandomFill(absl::MakeSpan(secret_bytes)); !status.ok()) return status;
  IssuedApiKey issued;
  issued.key_id = art::ToHex(id_bytes);
  issued.key = absl::StrCat("artd_", issued.key_id, "_", art::ToHex(secret_bytes));
  issued.hash = HashApiKey(issued.key);
  return issued;
}

Bytes HashApiKey(const std::string& key) {
  const art::Sha256Digest digest = art::Sha256(art::AsBytes(key));
  return Bytes(digest.begin(), digest.end());
}

namespace {

// The cache holds both kinds of credential: |kind| keeps their names apart.
Bytes CacheKey(char kind, const Bytes& credential) {
  Bytes key(credential.size() + 1);
  key[0] = static_cast<uint8_t>(kind);
  std::copy(credential.begin(), credential.end(), key.begin() + 1);
  return key;
}

}  // namespace

absl::StatusOr<std::string> TenantAuthenticator::Authenticate(const grpc::ServerContext& context) {
  absl::StatusOr<std::string> tenant;
  const auto& metadata = context.client_metadata();
  auto authorization = metadata.find("authorization");
  if (authorization != metadata.end()) {
    tenant = TenantOfApiKey(std::string(authorization->second.data(), authorization->second.size()));
  } else if (std::vector<grpc::string_ref> certificate =
                 trust_client_certificates_ ? context.auth_context()->FindPropertyValues("x509_pem_cert")
                                            : std::vector<grpc::string_ref>();
             !certificate.empty()) {
    tenant = TenantOfCertificate(std::string_view(certificate.front().data(), certificate.front().size()));
  } else {
    return absl::UnauthenticatedError(
        trust_client_certificates_
            ? "missing \"authorization: Bearer <api key>\" metadata or a client certificate"
            : "missing \"authorization: Bearer <api key>\" metadata");
  }
  if (!tenant.ok()) return tenant.status();
  if (call_tenants_ != nullptr) call_tenants_->Record(&context, *tenant);
  if (absl::Status charged = ChargeRequest(*tenant); !charged.ok()) return charged;
  return tenant;
}

absl::StatusOr<std::string> TenantAuthenticator::TenantOfApiKey(const std::string& authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(authorization, std::string(kBearer)) || authorization.size() == kBearer.size()) {
    return absl::UnauthenticatedError("authorization metadata must be \"Bearer <api key>\"");
  }
  const Bytes hash = HashApiKey(authorization.substr(kBearer.size()));
  absl::StatusOr<std::string> tenant = CachedTenant(CacheKey('k', hash), [&] { return store_->TenantForApiKey(hash); });
  if (absl::IsNotFound(tenant.status())) return absl::UnauthenticatedError("the API key is unknown or revoked");
  return tenant;
}

absl::StatusOr<std::string> TenantAuthenticator::TenantOfCertificate(std::string_view pem) {
  absl::StatusOr<Bytes> fingerprint = CertificateFingerprint(pem);
  if (!fingerprint.ok()) return absl::UnauthenticatedError("the client certificate cannot be read");
  absl::StatusOr<std::string> tenant =
      CachedTenant(CacheKey('c', *fingerprint), [&] { return store_->TenantForClientCertificate(*fingerprint); });
  if (absl::IsNotFound(tenant.status())) {
    return absl::UnauthenticatedError("the client certificate is not bound to a tenant");
  }
  return tenant;
}

template <typename Lookup>
absl::StatusOr<std::string> TenantAuthenticator::CachedTenant(const Bytes& cache_key, Lookup&& lookup) {
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mutex_);
    auto cached = key_cache_.find(cache_key);
    if (cached != key_cache_.end() && cached->second.expires > now) return cached->second.tenant;
  }
  absl::StatusOr<std::string> tenant = lookup();
  if (!tenant.ok()) return tenant.status();
  if (cache_ttl_ > absl::ZeroDuration()) {
    absl::MutexLock lock(&mutex_);
    // Bounded: a flood of distinct credentials cannot grow it without limit.
    if (key_cache_.size() > 10000) key_cache_.clear();
    key_cache_[cache_key] = CachedKey{*tenant, now + cache_ttl_};
  }
  return tenant;
}

absl::Status TenantAuthenticator::ChargeRequest(const std::string& tenant) {
  if (requests_per_second_ == 0) return absl::OkStatus();
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mutex_);
  auto [it, inserted] = buckets_.try_emplace(tenant, Bucket{static_cast<double>(requests_per_second_), now});
  Bucket& bucket = it->second;
  const double refill = absl::ToDoubleSeconds(now - bucket.refilled) * requests_per_second_;
  bucket.tokens = std::min<double>(requests_per_second_, bucket.tokens + refill);
  bucket.refilled = now;
  if (bucket.tokens < 1) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tenant \"", tenant, "\" is over its limit of ", requests_per_second_, " requests per second"));
  }
  bucket.tokens -= 1;
  return absl::OkStatus();
}

}  // namespace artd
