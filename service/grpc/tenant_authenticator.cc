#include "service/grpc/tenant_authenticator.h"

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "art/crypto/bytes.h"
#include "art/crypto/hash.h"
#include "art/crypto/random.h"

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

absl::StatusOr<std::string> TenantAuthenticator::Authenticate(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find("authorization");
  if (found == metadata.end()) {
    return absl::UnauthenticatedError("missing \"authorization: Bearer <api key>\" metadata");
  }
  const std::string value(found->second.data(), found->second.size());
  constexpr std::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(value, std::string(kBearer)) || value.size() == kBearer.size()) {
    return absl::UnauthenticatedError("authorization metadata must be \"Bearer <api key>\"");
  }
  const Bytes hash = HashApiKey(value.substr(kBearer.size()));
  const absl::Time now = absl::Now();
  std::optional<std::string> cached_tenant;
  {
    absl::MutexLock lock(&mutex_);
    auto cached = key_cache_.find(hash);
    if (cached != key_cache_.end() && cached->second.expires > now) cached_tenant = cached->second.tenant;
  }
  if (cached_tenant.has_value()) {
    if (absl::Status charged = ChargeRequest(*cached_tenant); !charged.ok()) return charged;
    return *cached_tenant;
  }
  absl::StatusOr<std::string> tenant = store_->TenantForApiKey(hash);
  if (absl::IsNotFound(tenant.status())) {
    return absl::UnauthenticatedError("the API key is unknown or revoked");
  }
  if (!tenant.ok()) return tenant.status();
  if (cache_ttl_ > absl::ZeroDuration()) {
    absl::MutexLock lock(&mutex_);
    // Bounded: a flood of distinct keys cannot grow it without limit.
    if (key_cache_.size() > 10000) key_cache_.clear();
    key_cache_[hash] = CachedKey{*tenant, now + cache_ttl_};
  }
  if (absl::Status charged = ChargeRequest(*tenant); !charged.ok()) return charged;
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
