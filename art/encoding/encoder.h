// The canonical encoding of everything artd signs, MACs, hashes or uses as AEAD additional data
// (RFC 8446 section 3 style): big-endian fixed-width integers and byte vectors prefixed with their
// 32-bit big-endian length. The sequence of fields is fixed by each caller, so two different inputs
// can never encode to the same bytes. Protobuf bytes are never signed.
#ifndef ART_ENCODING_ENCODER_H_
#define ART_ENCODING_ENCODER_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"

namespace art {

class Encoder {
 public:
  Encoder() = default;
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;
  // The buffer may hold secrets (key schedule contexts, Welcome bodies): it is wiped.
  ~Encoder() { SecureWipe(buffer_.data(), buffer_.size()); }

  Encoder& Uint8(uint8_t value);
  Encoder& Uint16(uint16_t value);
  Encoder& Uint32(uint32_t value);
  Encoder& Uint64(uint64_t value);
  Encoder& Bool(bool value) { return Uint8(value ? 1 : 0); }
  // A vector: 32-bit length, then the bytes.
  Encoder& Vector(ByteSpan bytes);
  Encoder& String(std::string_view text) { return Vector(AsBytes(text)); }
  // Raw bytes with no length prefix: only for fields whose length the format fixes, and for
  // splicing in another complete encoding.
  Encoder& Raw(ByteSpan bytes);

  ByteSpan bytes() const { return ByteSpan(buffer_.data(), buffer_.size()); }
  // Moves the public encoding out.
  Bytes TakeBytes();
  // Moves the encoding out as a secret (wiped when the result is destroyed).
  SecretBytes TakeSecret();

 private:
  Bytes buffer_;
};

// Reads a canonical encoding back; each read returns false when the input is too short. Used for
// secrets that travel encrypted (Welcome bodies).
class Decoder {
 public:
  explicit Decoder(ByteSpan input) : input_(input) {}

  bool ReadUint8(uint8_t* value);
  bool ReadBool(bool* value);
  bool ReadUint32(uint32_t* value);
  bool ReadUint64(uint64_t* value);
  // A length-prefixed vector; |view| points into the input.
  bool ReadVector(ByteSpan* view);
  // Exactly |size| bytes with no prefix; |view| points into the input.
  bool ReadFixed(size_t size, ByteSpan* view);
  // Exactly N bytes into an array.
  template <size_t N>
  bool ReadArray(std::array<uint8_t, N>* value) {
    ByteSpan view;
    if (!ReadFixed(N, &view)) return false;
    std::copy(view.begin(), view.end(), value->begin());
    return true;
  }
  // A length-prefixed vector as a string / as secret bytes.
  bool ReadString(std::string* value);
  bool ReadSecret(SecretBytes* value);
  bool done() const { return offset_ == input_.size(); }

 private:
  ByteSpan input_;
  size_t offset_ = 0;
};

}  // namespace art

#endif  // ART_ENCODING_ENCODER_H_
