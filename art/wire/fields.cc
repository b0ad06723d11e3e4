#include "art/wire/fields.h"

#include "art/crypto/ed25519.h"
#include "art/crypto/x25519.h"

namespace art {
namespace {

absl::Status NameField(const absl::Status& status, std::string_view field) {
  return absl::Status(status.code(), absl::StrCat(std::string(field), ": ", status.message()));
}

}  // namespace

absl::StatusOr<X25519PublicKey> ParseX25519PublicKey(const std::string& value,
                                                     std::string_view field) {
  absl::StatusOr<X25519PublicKey> key = FixedBytes<kX25519KeySize>(value, field);
  if (!key.ok()) return key.status();
  if (absl::Status valid = ValidateX25519PublicKey(*key); !valid.ok()) {
    return NameField(valid, field);
  }
  return key;
}

absl::StatusOr<Ed25519PublicKey> ParseEd25519PublicKey(const std::string& value,
                                                       std::string_view field) {
  absl::StatusOr<Ed25519PublicKey> key = FixedBytes<kEd25519PublicKeySize>(value, field);
  if (!key.ok()) return key.status();
  if (absl::Status valid = ValidateEd25519PublicKey(*key); !valid.ok()) {
    return NameField(valid, field);
  }
  return key;
}

}  // namespace art
