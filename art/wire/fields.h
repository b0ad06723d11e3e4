// Parsing of fixed-size fields out of protobuf messages: every key, hash and signature is checked for
// its exact length once, where it enters, and carried as a typed array afterwards.
#ifndef ART_WIRE_FIELDS_H_
#define ART_WIRE_FIELDS_H_

#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "art/crypto/bytes.h"

namespace art {

// Copies exactly |N| bytes out of |value|, or fails with INVALID_ARGUMENT naming |field|.
template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> FixedBytes(const std::string& value,
                                                  std::string_view field) {
  if (value.size() != N) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), " must be ", N, " bytes, got ",
                                                   value.size()));
  }
  std::array<uint8_t, N> result;
  std::memcpy(result.data(), value.data(), N);
  return result;
}

// An X25519 public key from |value|: exactly 32 bytes, canonical, not of small order.
absl::StatusOr<X25519PublicKey> ParseX25519PublicKey(const std::string& value,
                                                     std::string_view field);

// An Ed25519 public key from |value|: exactly 32 bytes, canonical, not of small order.
absl::StatusOr<Ed25519PublicKey> ParseEd25519PublicKey(const std::string& value,
                                                       std::string_view field);

// The bytes of a fixed-size array as a protobuf bytes value.
template <size_t N>
std::string ToField(const std::array<uint8_t, N>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), N);
}

inline ByteSpan FieldBytes(const std::string& value) { return AsBytes(value); }

}  // namespace art

#endif  // ART_WIRE_FIELDS_H_
