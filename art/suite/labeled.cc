#include "art/suite/labeled.h"

#include <string>

#include "art/crypto/hash.h"
#include "art/encoding/encoder.h"

namespace art {
namespace {

constexpr std::string_view kLabelPrefix = "art v1 ";

Bytes LabeledContent(std::string_view label, ByteSpan content) {
  std::string full_label = std::string(kLabelPrefix) + std::string(label);
  Encoder encoder;
  encoder.String(full_label).Vector(content);
  return encoder.TakeBytes();
}

}  // namespace

absl::StatusOr<SecretBytes> ExpandWithLabel(ByteSpan secret, std::string_view label,
                                            ByteSpan context, size_t length) {
  std::string full_label = std::string(kLabelPrefix) + std::string(label);
  Encoder info;
  info.Uint16(static_cast<uint16_t>(length)).String(full_label).Vector(context);
  return HkdfExpand(secret, info.bytes(), length);
}

absl::StatusOr<Ed25519Signature> SignWithLabel(const Ed25519PrivateKey& key, std::string_view label,
                                               ByteSpan content) {
  return key.Sign(LabeledContent(label, content));
}

absl::Status VerifyWithLabel(ByteSpan public_key, std::string_view label, ByteSpan content,
                             ByteSpan signature) {
  return Ed25519Verify(public_key, LabeledContent(label, content), signature);
}

}  // namespace art
