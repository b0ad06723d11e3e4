#include "art/crypto/random.h"

#include <openssl/rand.h>

#include <algorithm>

#include "art/crypto/backend_internal.h"

namespace art {

absl::Status RandomFill(absl::Span<uint8_t> out) {
  // OpenSSL takes an int length; chunks keep any size within it.
  constexpr size_t kChunkSize = size_t{1} << 30;
  for (size_t offset = 0; offset < out.size(); offset += kChunkSize) {
    const size_t size = std::min(kChunkSize, out.size() - offset);
    if (RAND_bytes(out.data() + offset, static_cast<int>(size)) != 1) {
      return crypto_internal::BackendError(absl::StatusCode::kInternal, "RAND_bytes failed");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> RandomSecret(size_t size) {
  SecretBytes secret(size);
  absl::Status status = RandomFill(secret.mutable_span());
  if (!status.ok()) return status;
  return secret;
}

}  // namespace art
