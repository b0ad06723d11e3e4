// The labelled primitives of cipher suite 1 (RFC 9420 section 5.1.3 style). Every label is prefixed
// with "art v1 " and length-prefixed together with its context, so no two uses can collide.
#ifndef ART_SUITE_LABELED_H_
#define ART_SUITE_LABELED_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/secret_bytes.h"

namespace art {

// Cipher suite 1: X25519, Ed25519, HKDF-SHA256, HMAC-SHA256, AES-256-GCM, SHA-256.
inline constexpr uint16_t kCipherSuite = 1;

// Length of every derived secret, node secret and hash.
inline constexpr size_t kSecretSize = 32;

// HKDF-Expand(secret, encode(length, "art v1 " + label, context), length).
absl::StatusOr<SecretBytes> ExpandWithLabel(ByteSpan secret, std::string_view label,
                                            ByteSpan context, size_t length);

// Ed25519 over encode("art v1 " + label, content).
absl::StatusOr<Ed25519Signature> SignWithLabel(const Ed25519PrivateKey& key, std::string_view label,
                                               ByteSpan content);

// Verifies a SignWithLabel signature; statuses as Ed25519Verify.
absl::Status VerifyWithLabel(ByteSpan public_key, std::string_view label, ByteSpan content,
                             ByteSpan signature);

}  // namespace art

#endif  // ART_SUITE_LABELED_H_
