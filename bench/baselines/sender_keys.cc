#include "bench/baselines/sender_keys.h"

#include <utility>

#include "art/base/status_macros.h"
#include "art/crypto/aead.h"
#include "art/crypto/random.h"
#include "art/encoding/encoder.h"
#include "art/suite/labeled.h"
#include "bench/baselines/ratchet_kdf.h"

namespace art::baselines {
namespace {

constexpr std::string_view kMessageLabel = "baseline sender key message";

// What the AEAD authenticates and what (with the ciphertext) the signature covers.
Bytes EncodeHeader(const SenderKeyMessage& message) {
  Encoder encoder;
  encoder.String(message.group_id).Uint32(message.sender).Uint32(message.key_id).Uint32(message.counter);
  return encoder.TakeBytes();
}

Bytes SignedContent(const SenderKeyMessage& message) {
  Encoder encoder;
  encoder.Raw(EncodeHeader(message)).Vector(message.ciphertext);
  return encoder.TakeBytes();
}

}  // namespace

void SenderKeyMessage::EncodeTo(Encoder& encoder) const {
  encoder.String(group_id).Uint32(sender).Uint32(key_id).Uint32(counter).Vector(ciphertext).Raw(signature);
}

SecretBytes SenderKeyDistribution::Encode() const {
  Encoder encoder;
  encoder.Uint32(sender).Uint32(key_id).Uint32(counter).Raw(chain.span()).Raw(signature_key);
  return encoder.TakeSecret();
}

absl::StatusOr<SenderKeyDistribution> SenderKeyDistribution::Decode(ByteSpan encoded) {
  Decoder decoder(encoded);
  SenderKeyDistribution distribution;
  ByteSpan chain;
  if (!decoder.ReadUint32(&distribution.sender) || !decoder.ReadUint32(&distribution.key_id) ||
      !decoder.ReadUint32(&distribution.counter) || !decoder.ReadFixed(kSecretSize, &chain) ||
      !decoder.ReadArray(&distribution.signature_key) || !decoder.done()) {
    return absl::InvalidArgumentError("malformed sender key distribution");
  }
  distribution.chain = SecretBytes(chain);
  return distribution;
}

absl::StatusOr<OwnSenderKey> OwnSenderKey::Generate(uint32_t sender, uint32_t key_id) {
  ART_ASSIGN_OR_RETURN(SecretBytes chain, RandomSecret(kSecretSize));
  ART_ASSIGN_OR_RETURN(Ed25519PrivateKey signing_key, Ed25519PrivateKey::Generate());
  return OwnSenderKey(sender, key_id, std::move(chain), std::move(signing_key));
}

absl::StatusOr<SenderKeyMessage> OwnSenderKey::Encrypt(const std::string& group_id, ByteSpan payload) {
  ART_ASSIGN_OR_RETURN(ChainStep step, StepChain(chain_, counter_));
  SenderKeyMessage message;
  message.group_id = group_id;
  message.sender = sender_;
  message.key_id = key_id_;
  message.counter = counter_;
  ART_ASSIGN_OR_RETURN(message.ciphertext,
                       Aes256GcmSeal(step.key.span(), step.nonce.span(), EncodeHeader(message), payload));
  ART_ASSIGN_OR_RETURN(message.signature, SignWithLabel(signing_key_, kMessageLabel, SignedContent(message)));
  chain_ = std::move(step.next_chain);
  ++counter_;
  return message;
}

SenderKeyDistribution OwnSenderKey::Distribution() const {
  SenderKeyDistribution distribution;
  distribution.sender = sender_;
  distribution.key_id = key_id_;
  distribution.counter = counter_;
  distribution.chain = chain_;
  distribution.signature_key = signing_key_.public_key();
  return distribution;
}

absl::Status SenderKeyStore::Install(const SenderKeyDistribution& distribution) {
  const auto held = keys_.find(distribution.sender);
  if (held != keys_.end() && held->second.key_id >= distribution.key_id) {
    return absl::InvalidArgumentError("sender key not newer than the one held");
  }
  keys_[distribution.sender] =
      Received{distribution.key_id, distribution.counter, distribution.chain, distribution.signature_key};
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> SenderKeyStore::Decrypt(const SenderKeyMessage& message) {
  const auto held = keys_.find(message.sender);
  if (held == keys_.end()) return absl::NotFoundError("no sender key for this sender");
  Received& key = held->second;
  if (message.key_id != key.key_id) return absl::InvalidArgumentError("sender key id not current");
  ART_RETURN_IF_ERROR(VerifyWithLabel(key.signature_key, kMessageLabel, SignedContent(message),
                                      message.signature));
  ART_ASSIGN_OR_RETURN(ChainStep step, StepChainTo(key.chain, key.counter, message.counter, kMaxSkip));
  ART_ASSIGN_OR_RETURN(SecretBytes payload, Aes256GcmOpen(step.key.span(), step.nonce.span(),
                                                          EncodeHeader(message), message.ciphertext));
  key.chain = std::move(step.next_chain);
  key.counter = message.counter + 1;
  return payload;
}

absl::StatusOr<SenderKeySender::Created> SenderKeySender::Create(
    const GroupConfig& trust, const MemberIdentity& self, std::string group_id,
    absl::Span<const v1::PrekeyBundle> bundles) {
  ART_ASSIGN_OR_RETURN(OwnSenderKey own_key, OwnSenderKey::Generate(/*sender=*/0, /*key_id=*/0));
  const SecretBytes distribution = own_key.Distribution().Encode();
  ART_ASSIGN_OR_RETURN(PairwiseFanout::Created fanout,
                       PairwiseFanout::Create(trust, self, bundles, distribution.span()));
  return Created{SenderKeySender(std::move(group_id), std::move(fanout.fanout), std::move(own_key)),
                 std::move(fanout.setup_messages)};
}

absl::StatusOr<SenderKeyMessage> SenderKeySender::Send(ByteSpan payload) {
  return own_key_.Encrypt(group_id_, payload);
}

absl::StatusOr<std::vector<PairwiseMessage>> SenderKeySender::Heal() {
  ART_ASSIGN_OR_RETURN(OwnSenderKey fresh, OwnSenderKey::Generate(0, own_key_.key_id() + 1));
  const SecretBytes distribution = fresh.Distribution().Encode();
  ART_ASSIGN_OR_RETURN(std::vector<PairwiseMessage> messages, fanout_.HealAndSend(distribution.span()));
  own_key_ = std::move(fresh);
  return messages;
}

}  // namespace art::baselines
