// Secure random bytes from the operating system's generator (through the crypto backend).
#ifndef ART_CRYPTO_RANDOM_H_
#define ART_CRYPTO_RANDOM_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "art/crypto/secret_bytes.h"

namespace art {

// Fills |out| with secure random bytes. Fails only if the generator fails.
absl::Status RandomFill(absl::Span<uint8_t> out);

// Returns |size| fresh secure random bytes.
absl::StatusOr<SecretBytes> RandomSecret(size_t size);

}  // namespace art

#endif  // ART_CRYPTO_RANDOM_H_
