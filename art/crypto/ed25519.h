// Ed25519 (RFC 8032) with one strict verification rule on both sides: the signature's S must be
// canonical (S < L), and neither R nor the public key A may be a point of small order or a
// non-canonical encoding.
#ifndef ART_CRYPTO_ED25519_H_
#define ART_CRYPTO_ED25519_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"

namespace art {

// Returns OK if |public_key| is 32 bytes, a canonical encoding and not of small order.
absl::Status ValidateEd25519PublicKey(ByteSpan public_key);

// Verifies |signature| over |message| under |public_key| with the strict rule above. Returns
// INVALID_ARGUMENT for malformed sizes or keys and PERMISSION_DENIED when the signature is invalid.
absl::Status Ed25519Verify(ByteSpan public_key, ByteSpan message, ByteSpan signature);

// An Ed25519 private key with its public key, computed once when the key is created. Copying shares
// the immutable backend object. One key (or copies of it) may be used from several threads at once.
// A moved-from key has an empty seed() and its Sign() fails with FAILED_PRECONDITION.
class Ed25519PrivateKey {
 public:
  static absl::StatusOr<Ed25519PrivateKey> Generate();
  // From the 32-byte RFC 8032 seed.
  static absl::StatusOr<Ed25519PrivateKey> FromSeed(ByteSpan seed);

  const Ed25519PublicKey& public_key() const { return public_key_; }
  const SecretBytes& seed() const;

  absl::StatusOr<Ed25519Signature> Sign(ByteSpan message) const;

  struct Impl;

 private:
  explicit Ed25519PrivateKey(std::shared_ptr<const Impl> impl, const Ed25519PublicKey& public_key)
      : impl_(std::move(impl)), public_key_(public_key) {}
  std::shared_ptr<const Impl> impl_;
  Ed25519PublicKey public_key_;
};

}  // namespace art

#endif  // ART_CRYPTO_ED25519_H_
