// X25519 (RFC 7748) key pairs with the strict input rules of cipher suite 1: small-order and
// non-canonical public keys are rejected, and so is an all-zero shared secret.
#ifndef ART_CRYPTO_X25519_H_
#define ART_CRYPTO_X25519_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"

namespace art {

// Returns OK if |public_key| is acceptable as a peer key: 32 bytes, a canonical u-coordinate
// (u < 2^255 - 19, the top bit is taken as part of u and so must be zero) and not one of the points
// of small order. Otherwise INVALID_ARGUMENT naming the problem.
absl::Status ValidateX25519PublicKey(ByteSpan public_key);

// An X25519 private key with its public key, computed once when the key is created. Copying shares
// the immutable backend object, so a copy costs no scalar multiplication.
// One key (or copies of it) may be used from several threads at once. A moved-from key has an empty
// secret() and its Agree() fails with FAILED_PRECONDITION.
class X25519PrivateKey {
 public:
  // A fresh random key pair.
  static absl::StatusOr<X25519PrivateKey> Generate();
  // A key pair from a 32-byte scalar (clamped as RFC 7748 says). One scalar multiplication.
  static absl::StatusOr<X25519PrivateKey> FromSecret(ByteSpan secret);

  const X25519PublicKey& public_key() const { return public_key_; }
  // The 32-byte scalar as given or generated.
  const SecretBytes& secret() const;

  // X25519(this, peer). Rejects an invalid peer key (see ValidateX25519PublicKey) and an all-zero
  // result with INVALID_ARGUMENT.
  absl::StatusOr<SecretBytes> Agree(ByteSpan peer_public_key) const;

  struct Impl;

 private:
  explicit X25519PrivateKey(std::shared_ptr<const Impl> impl, const X25519PublicKey& public_key)
      : impl_(std::move(impl)), public_key_(public_key) {}
  std::shared_ptr<const Impl> impl_;
  X25519PublicKey public_key_;
};

}  // namespace art

#endif  // ART_CRYPTO_X25519_H_
