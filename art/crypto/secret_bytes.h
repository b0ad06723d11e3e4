// SecretBytes: a byte string that holds key material. It is wiped when destroyed, reassigned or
// cleared, its comparison runs in constant time, and it has no operator<< so it cannot be logged by
// accident.
#ifndef ART_CRYPTO_SECRET_BYTES_H_
#define ART_CRYPTO_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "art/crypto/bytes.h"

namespace art {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : bytes_(size, 0) {}
  // Copies |bytes|; the caller remains responsible for wiping its own copy.
  explicit SecretBytes(ByteSpan bytes) : bytes_(bytes.begin(), bytes.end()) {}
  SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes() { Wipe(); }

  // Overwrites the contents with zeros and empties the string.
  void Wipe();

  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  ByteSpan span() const { return ByteSpan(bytes_.data(), bytes_.size()); }
  absl::Span<uint8_t> mutable_span() { return absl::Span<uint8_t>(bytes_.data(), bytes_.size()); }

  // Constant time in the length of the shorter operand; lengths are not secret.
  bool operator==(const SecretBytes& other) const;
  bool operator!=(const SecretBytes& other) const { return !(*this == other); }

 private:
  std::vector<uint8_t> bytes_;
};

// Overwrites |size| bytes at |data| with zeros in a way the compiler cannot elide.
void SecureWipe(void* data, size_t size);

// Compares two byte strings in time that depends only on their lengths. Different lengths compare
// unequal.
bool ConstantTimeEquals(ByteSpan a, ByteSpan b);

}  // namespace art

#endif  // ART_CRYPTO_SECRET_BYTES_H_
