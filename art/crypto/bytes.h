// Byte strings used across artd: plain public bytes, fixed-size keys and secret bytes that wipe
// themselves.
#ifndef ART_CRYPTO_BYTES_H_
#define ART_CRYPTO_BYTES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace art {

// Public bytes: nothing secret may be stored in a Bytes.
using Bytes = std::vector<uint8_t>;
using ByteSpan = absl::Span<const uint8_t>;

inline constexpr size_t kX25519KeySize = 32;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kAes256GcmKeySize = 32;
inline constexpr size_t kAes256GcmNonceSize = 12;
inline constexpr size_t kAes256GcmTagSize = 16;

using X25519PublicKey = std::array<uint8_t, kX25519KeySize>;
using Ed25519PublicKey = std::array<uint8_t, kEd25519PublicKeySize>;
using Ed25519Signature = std::array<uint8_t, kEd25519SignatureSize>;
using Sha256Digest = std::array<uint8_t, kSha256Size>;

// Views a string's bytes without copying.
inline ByteSpan AsBytes(std::string_view text) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// Lower-case hex, for logs of public values and for test vectors.
std::string ToHex(ByteSpan bytes);

// Parses hex (either case); returns false on an odd length or a non-hex character.
bool FromHex(std::string_view hex, Bytes* out);

}  // namespace art

#endif  // ART_CRYPTO_BYTES_H_
