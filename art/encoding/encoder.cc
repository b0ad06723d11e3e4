#include "art/encoding/encoder.h"

#include <utility>

namespace art {
namespace {

template <typename T>
void AppendBigEndian(Bytes& buffer, T value) {
  for (int shift = static_cast<int>(sizeof(T) * 8) - 8; shift >= 0; shift -= 8) {
    buffer.push_back(static_cast<uint8_t>(value >> shift));
  }
}

}  // namespace

Encoder& Encoder::Uint8(uint8_t value) {
  buffer_.push_back(value);
  return *this;
}

Encoder& Encoder::Uint16(uint16_t value) {
  AppendBigEndian(buffer_, value);
  return *this;
}

Encoder& Encoder::Uint32(uint32_t value) {
  AppendBigEndian(buffer_, value);
  return *this;
}

Encoder& Encoder::Uint64(uint64_t value) {
  AppendBigEndian(buffer_, value);
  return *this;
}

Encoder& Encoder::Vector(ByteSpan bytes) {
  Uint32(static_cast<uint32_t>(bytes.size()));
  return Raw(bytes);
}

Encoder& Encoder::Raw(ByteSpan bytes) {
  // Grow by doubling ourselves so that no reallocation leaves an unwiped copy behind.
  if (buffer_.size() + bytes.size() > buffer_.capacity()) {
    Bytes larger;
    larger.reserve(std::max(buffer_.capacity() * 2, buffer_.size() + bytes.size() + 64));
    larger.insert(larger.end(), buffer_.begin(), buffer_.end());
    SecureWipe(buffer_.data(), buffer_.size());
    buffer_.swap(larger);
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  return *this;
}

Bytes Encoder::TakeBytes() { return std::exchange(buffer_, Bytes()); }

SecretBytes Encoder::TakeSecret() {
  SecretBytes secret(bytes());
  SecureWipe(buffer_.data(), buffer_.size());
  buffer_.clear();
  return secret;
}

bool Decoder::ReadUint8(uint8_t* value) {
  if (input_.size() - offset_ < 1) return false;
  *value = input_[offset_++];
  return true;
}

bool Decoder::ReadBool(bool* value) {
  uint8_t byte = 0;
  if (!ReadUint8(&byte) || byte > 1) return false;
  *value = byte == 1;
  return true;
}

bool Decoder::ReadString(std::string* value) {
  ByteSpan view;
  if (!ReadVector(&view)) return false;
  value->assign(view.begin(), view.end());
  return true;
}

bool Decoder::ReadSecret(SecretBytes* value) {
  ByteSpan view;
  if (!ReadVector(&view)) return false;
  *value = SecretBytes(view);
  return true;
}

bool Decoder::ReadUint32(uint32_t* value) {
  if (input_.size() - offset_ < 4) return false;
  uint32_t result = 0;
  for (int i = 0; i < 4; ++i) result = (result << 8) | input_[offset_ + i];
  offset_ += 4;
  *value = result;
  return true;
}

bool Decoder::ReadUint64(uint64_t* value) {
  if (input_.size() - offset_ < 8) return false;
  uint64_t result = 0;
  for (int i = 0; i < 8; ++i) result = (result << 8) | input_[offset_ + i];
  offset_ += 8;
  *value = result;
  return true;
}

bool Decoder::ReadVector(ByteSpan* view) {
  uint32_t length = 0;
  return ReadUint32(&length) && ReadFixed(length, view);
}

bool Decoder::ReadFixed(size_t size, ByteSpan* view) {
  if (input_.size() - offset_ < size) return false;
  *view = input_.subspan(offset_, size);
  offset_ += size;
  return true;
}

}  // namespace art
