#include "bench/baselines/pairwise.h"

#include <algorithm>
#include <utility>

#include "art/base/status_macros.h"
#include "art/crypto/aead.h"
#include "art/protocol/key_agreement.h"
#include "bench/baselines/ratchet_kdf.h"

namespace art::baselines {

void PrekeyHeader::EncodeTo(Encoder& encoder) const {
  encoder.Raw(initiator_identity)
      .Raw(base_key)
      .Uint32(signed_prekey_id)
      .Bool(one_time_prekey_id.has_value())
      .Uint32(one_time_prekey_id.value_or(0));
}

void PairwiseMessage::EncodeTo(Encoder& encoder) const {
  encoder.Uint32(recipient)
      .Raw(ratchet_key)
      .Uint32(sender_step)
      .Uint32(recipient_step)
      .Uint32(counter)
      .Vector(ciphertext);
}

Bytes PairwiseSession::AdditionalData(const PairwiseMessage& message) {
  Encoder encoder;
  encoder.String("baseline pairwise")
      .Uint32(message.recipient)
      .Raw(message.ratchet_key)
      .Uint32(message.sender_step)
      .Uint32(message.recipient_step)
      .Uint32(message.counter);
  return encoder.TakeBytes();
}

absl::StatusOr<PairwiseSession> PairwiseSession::FromAgreement(const SecretBytes& agreement,
                                                              bool initiator, uint32_t self_index,
                                                              uint32_t peer_index,
                                                              X25519PrivateKey own_ratchet_key,
                                                              const X25519PublicKey& peer_ratchet_key) {
  // Each direction gets its own root and first chain, named after who sends on it.
  ART_ASSIGN_OR_RETURN(SecretBytes initiator_root, DeriveSecret(agreement, "baseline initiator root"));
  ART_ASSIGN_OR_RETURN(SecretBytes initiator_chain, DeriveSecret(agreement, "baseline initiator chain"));
  ART_ASSIGN_OR_RETURN(SecretBytes responder_root, DeriveSecret(agreement, "baseline responder root"));
  ART_ASSIGN_OR_RETURN(SecretBytes responder_chain, DeriveSecret(agreement, "baseline responder chain"));
  PairwiseSession session;
  session.self_ = self_index;
  session.peer_ = peer_index;
  session.send_root_ = initiator ? std::move(initiator_root) : std::move(responder_root);
  session.send_chain_ = initiator ? std::move(initiator_chain) : std::move(responder_chain);
  session.receive_root_ = initiator ? std::move(responder_root) : std::move(initiator_root);
  session.receive_chain_ = initiator ? std::move(responder_chain) : std::move(initiator_chain);
  session.own_ratchet_keys_.emplace(0, std::move(own_ratchet_key));
  session.peer_ratchet_key_ = peer_ratchet_key;
  return session;
}

absl::StatusOr<PairwiseSession::Initiated> PairwiseSession::Initiate(const GroupConfig& trust,
                                                                    const MemberIdentity& self,
                                                                    uint32_t self_index,
                                                                    uint32_t peer_index,
                                                                    const v1::PrekeyBundle& bundle) {
  const uint64_t now = trust.unix_seconds ? trust.unix_seconds() : 0;
  ART_ASSIGN_OR_RETURN(VerifiedBundle verified, VerifyPrekeyBundle(bundle, trust.tenant_id,
                                                                   trust.trusted_tenant_keys, now));
  ART_ASSIGN_OR_RETURN(X25519PrivateKey base_key, X25519PrivateKey::Generate());
  ART_ASSIGN_OR_RETURN(
      SecretBytes agreement,
      SenderKeyAgreement(self.dh_key, base_key, verified.credential.dh_key, verified.signed_prekey,
                         verified.one_time_prekey_id ? &verified.one_time_prekey : nullptr));
  PrekeyHeader header;
  header.initiator_identity = self.dh_key.public_key();
  header.base_key = base_key.public_key();
  header.signed_prekey_id = verified.signed_prekey_id;
  header.one_time_prekey_id = verified.one_time_prekey_id;
  // The base key doubles as the initiator's first ratchet key, the signed prekey as the responder's.
  ART_ASSIGN_OR_RETURN(PairwiseSession session,
                       FromAgreement(agreement, /*initiator=*/true, self_index, peer_index,
                                     std::move(base_key), verified.signed_prekey));
  return Initiated{std::move(session), header};
}

absl::StatusOr<PairwiseSession> PairwiseSession::Accept(const MemberIdentity& self, uint32_t self_index,
                                                       uint32_t initiator_index, PrekeySecrets* prekeys,
                                                       const PrekeyHeader& header) {
  const auto signed_prekey = prekeys->signed_prekeys.find(header.signed_prekey_id);
  if (signed_prekey == prekeys->signed_prekeys.end()) {
    return absl::InvalidArgumentError("unknown signed prekey");
  }
  const X25519PrivateKey* one_time_prekey = nullptr;
  if (header.one_time_prekey_id.has_value()) {
    const auto found = prekeys->one_time_prekeys.find(*header.one_time_prekey_id);
    if (found == prekeys->one_time_prekeys.end()) {
      return absl::InvalidArgumentError("unknown or consumed one-time prekey");
    }
    one_time_prekey = &found->second;
  }
  ART_ASSIGN_OR_RETURN(SecretBytes agreement,
                       ReceiverKeyAgreement(self.dh_key, signed_prekey->second, one_time_prekey,
                                            header.initiator_identity, header.base_key));
  ART_ASSIGN_OR_RETURN(PairwiseSession session,
                       FromAgreement(agreement, /*initiator=*/false, self_index, initiator_index,
                                     signed_prekey->second, header.base_key));
  if (header.one_time_prekey_id.has_value()) prekeys->one_time_prekeys.erase(*header.one_time_prekey_id);
  return session;
}

absl::StatusOr<PairwiseMessage> PairwiseSession::Encrypt(ByteSpan payload) {
  ART_ASSIGN_OR_RETURN(ChainStep step, StepChain(send_chain_, send_counter_));
  PairwiseMessage message;
  message.recipient = peer_;
  message.ratchet_key = own_ratchet_keys_.rbegin()->second.public_key();
  message.sender_step = send_step_;
  message.recipient_step = send_recipient_step_;
  message.counter = send_counter_;
  ART_ASSIGN_OR_RETURN(message.ciphertext,
                       Aes256GcmSeal(step.key.span(), step.nonce.span(), AdditionalData(message), payload));
  send_chain_ = std::move(step.next_chain);
  ++send_counter_;
  return message;
}

absl::Status PairwiseSession::Heal() {
  ART_ASSIGN_OR_RETURN(X25519PrivateKey fresh, X25519PrivateKey::Generate());
  ART_ASSIGN_OR_RETURN(SecretBytes shared, fresh.Agree(peer_ratchet_key_));
  ART_ASSIGN_OR_RETURN(RootStep root, RatchetRoot(send_root_, shared));
  send_root_ = std::move(root.next_root);
  send_chain_ = std::move(root.chain);
  ++send_step_;
  send_recipient_step_ = peer_step_;
  send_counter_ = 0;
  own_ratchet_keys_.emplace(send_step_, std::move(fresh));
  while (own_ratchet_keys_.size() > kMaxUnacknowledgedKeys) own_ratchet_keys_.erase(own_ratchet_keys_.begin());
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> PairwiseSession::Decrypt(const PairwiseMessage& message) {
  if (message.recipient != self_) return absl::InvalidArgumentError("message for another member");
  const Bytes aad = AdditionalData(message);
  std::optional<RootStep> new_root;
  const SecretBytes* chain = &receive_chain_;
  uint32_t index = receive_counter_;
  if (message.sender_step == peer_step_) {
    if (message.ratchet_key != peer_ratchet_key_) return absl::InvalidArgumentError("wrong ratchet key");
  } else if (message.sender_step > peer_step_) {
    const auto own = own_ratchet_keys_.find(message.recipient_step);
    if (own == own_ratchet_keys_.end()) return absl::InvalidArgumentError("unknown own ratchet key");
    ART_ASSIGN_OR_RETURN(SecretBytes shared, own->second.Agree(message.ratchet_key));
    ART_ASSIGN_OR_RETURN(new_root, RatchetRoot(receive_root_, shared));
    chain = &new_root->chain;
    index = 0;
  } else {
    return absl::InvalidArgumentError("message of a superseded ratchet step");
  }
  ART_ASSIGN_OR_RETURN(ChainStep step, StepChainTo(*chain, index, message.counter, kMaxSkip));
  ART_ASSIGN_OR_RETURN(SecretBytes payload,
                       Aes256GcmOpen(step.key.span(), step.nonce.span(), aad, message.ciphertext));
  // Everything verified: consume the key and, on a new step, retire what the peer no longer uses.
  if (new_root.has_value()) {
    receive_root_ = std::move(new_root->next_root);
    peer_ratchet_key_ = message.ratchet_key;
    peer_step_ = message.sender_step;
    own_ratchet_keys_.erase(own_ratchet_keys_.begin(), own_ratchet_keys_.lower_bound(message.recipient_step));
  }
  receive_chain_ = std::move(step.next_chain);
  receive_counter_ = message.counter + 1;
  return payload;
}

absl::StatusOr<SecretBytes> PairwiseSession::OpenWithStolenState(const PairwiseSession& stolen,
                                                                const PairwiseMessage& message) {
  const Bytes aad = AdditionalData(message);
  auto open_with_chain = [&](const SecretBytes& chain, uint32_t index) -> absl::StatusOr<SecretBytes> {
    ART_ASSIGN_OR_RETURN(ChainStep step, StepChainTo(chain, index, message.counter, kMaxSkip));
    return Aes256GcmOpen(step.key.span(), step.nonce.span(), aad, message.ciphertext);
  };
  if (message.sender_step == stolen.send_step_) return open_with_chain(stolen.send_chain_, stolen.send_counter_);
  // A new step: the attacker can combine the stolen root with every DH it can compute.
  for (const auto& [step, key] : stolen.own_ratchet_keys_) {
    absl::StatusOr<SecretBytes> shared = key.Agree(message.ratchet_key);
    if (!shared.ok()) continue;
    ART_ASSIGN_OR_RETURN(RootStep root, RatchetRoot(stolen.send_root_, *shared));
    absl::StatusOr<SecretBytes> opened = open_with_chain(root.chain, 0);
    if (opened.ok()) return opened;
  }
  return absl::PermissionDeniedError("the stolen state does not open the message");
}

absl::StatusOr<PairwiseFanout::Created> PairwiseFanout::Create(const GroupConfig& trust,
                                                             const MemberIdentity& self,
                                                             absl::Span<const v1::PrekeyBundle> bundles,
                                                             ByteSpan setup_payload) {
  Created created;
  created.fanout.sessions_.reserve(bundles.size());
  created.setup_messages.reserve(bundles.size());
  for (size_t i = 0; i < bundles.size(); ++i) {
    ART_ASSIGN_OR_RETURN(PairwiseSession::Initiated initiated, PairwiseSession::Initiate(trust, self, 0,
                                                                        static_cast<uint32_t>(i + 1),
                                                                        bundles[i]));
    ART_ASSIGN_OR_RETURN(PairwiseMessage first, initiated.session.Encrypt(setup_payload));
    created.setup_messages.push_back(PrekeyMessage{initiated.header, std::move(first)});
    created.fanout.sessions_.push_back(std::move(initiated.session));
  }
  return created;
}

absl::StatusOr<std::vector<PairwiseMessage>> PairwiseFanout::Send(ByteSpan payload) {
  std::vector<PairwiseMessage> messages;
  messages.reserve(sessions_.size());
  for (PairwiseSession& session : sessions_) {
    ART_ASSIGN_OR_RETURN(PairwiseMessage message, session.Encrypt(payload));
    messages.push_back(std::move(message));
  }
  return messages;
}

absl::StatusOr<std::vector<PairwiseMessage>> PairwiseFanout::HealAndSend(ByteSpan payload) {
  for (PairwiseSession& session : sessions_) ART_RETURN_IF_ERROR(session.Heal());
  return Send(payload);
}

size_t TotalWireSize(absl::Span<const PairwiseMessage> messages) {
  size_t total = 0;
  for (const PairwiseMessage& message : messages) total += message.WireSize();
  return total;
}

size_t TotalWireSize(absl::Span<const PrekeyMessage> messages) {
  size_t total = 0;
  for (const PrekeyMessage& message : messages) total += message.WireSize();
  return total;
}

}  // namespace art::baselines
