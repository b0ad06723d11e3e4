#include "art/crypto/secret_bytes.h"

#include <cstring>

namespace art {

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    // Wipe first: the assignment may reallocate and free the old buffer without clearing it.
    Wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

void SecretBytes::Wipe() {
  SecureWipe(bytes_.data(), bytes_.size());
  // clear() keeps the (now zeroed) allocation; it is freed by the vector's destructor.
  bytes_.clear();
}

bool SecretBytes::operator==(const SecretBytes& other) const {
  return ConstantTimeEquals(span(), other.span());
}

void SecureWipe(void* data, size_t size) {
  if (size == 0) return;
#if defined(__GNUC__) || defined(__clang__)
  std::memset(data, 0, size);
  // The empty asm claims to read |data| and all memory, so the compiler must keep the memset even
  // when the buffer is freed right after (the same trick as BoringSSL's OPENSSL_cleanse).
  __asm__ __volatile__("" : : "r"(data) : "memory");
#else
  // Volatile stores may not be elided.
  volatile uint8_t* bytes = static_cast<volatile uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) bytes[i] = 0;
#endif
}

bool ConstantTimeEquals(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  uint8_t difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<uint8_t>(a[i] ^ b[i]);
#if defined(__GNUC__) || defined(__clang__)
    // Hides |difference| from the optimiser so it cannot add an early exit once it is non-zero.
    __asm__("" : "+r"(difference));
#endif
  }
  return difference == 0;
}

}  // namespace art
