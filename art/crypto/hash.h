// SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869) of cipher suite 1.
#ifndef ART_CRYPTO_HASH_H_
#define ART_CRYPTO_HASH_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"

namespace art {

// SHA-256 of |data|.
Sha256Digest Sha256(ByteSpan data);

// HMAC-SHA256 of |data| under |key| (any length). The tag is public once sent, but it is returned as
// SecretBytes because it is also used as a MAC to compare against in constant time.
SecretBytes HmacSha256(ByteSpan key, ByteSpan data);

// HKDF-Extract(salt, ikm): a 32-byte pseudorandom key. An empty salt means 32 zero bytes (RFC 5869).
SecretBytes HkdfExtract(ByteSpan salt, ByteSpan input_key_material);

// HKDF-Expand(prk, info, length). Fails if |length| > 255 * 32 or |prk| is shorter than 32 bytes.
absl::StatusOr<SecretBytes> HkdfExpand(ByteSpan pseudorandom_key, ByteSpan info, size_t length);

}  // namespace art

#endif  // ART_CRYPTO_HASH_H_
