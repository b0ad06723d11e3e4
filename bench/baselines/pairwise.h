// Baseline 1: pairwise channels, as Signal and iMessage groups send: a group message is encrypted
// once per recipient, each under its own pairwise session.
//
// A session is established X3DH-style from the peer's prekey bundle, with the same agreement ART
// uses to key a leaf (art/protocol/key_agreement.h: IKd/EK/OPK, 4-5 X25519) and a fresh ephemeral
// per session. Each direction then runs a symmetric ratchet (ratchet_kdf.h) and a DH ratchet: a
// party "steps" by generating a fresh ratchet key pair E, mixing X25519(E, peer's latest ratchet
// key) into that direction's root key and starting a new sending chain; E's public key travels in
// every header and becomes the key the peer steps against next. A step is what heals the
// stepping party's sending direction after its state was stolen (the attacker lacks E and the peer's
// private key); it also retires the stolen ratchet private key for the peer's next step.
//
// Simplifications against Signal's Double Ratchet, none of which changes the sender's cost:
//   * steps are explicit (Heal) instead of on every reply; the header therefore names which of the
//     recipient's ratchet keys a step used (recipient_step, 4 bytes), and a party keeps its last
//     kMaxUnacknowledgedKeys ratchet private keys until the peer shows it has seen a newer one;
//   * no store of skipped message keys across steps: a message of an older chain is refused.
//   * the responder trusts the initiator's IKd from the group roster (whose credential it verifies
//     there), so the prekey header carries no credential.
//
// Wire model (canonical encoding, art/encoding; what the sender uploads to the service):
//   PairwiseMessage = recipient u32 | ratchet_key [32] | sender_step u32 | recipient_step u32 |
//                     counter u32 | ciphertext vector<u32 length> (payload + 16-byte GCM tag)
//                   = kPairwiseMessageOverhead (68) + payload bytes
//   PrekeyHeader    = initiator IKd [32] | base key EK [32] | signed prekey id u32 |
//                     has one-time prekey u8 | one-time prekey id u32  = 73 bytes, on the first
//                     message of a session only.
#ifndef BENCH_BASELINES_PAIRWISE_H_
#define BENCH_BASELINES_PAIRWISE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "api/art/v1/protocol.pb.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"
#include "art/crypto/x25519.h"
#include "art/encoding/encoder.h"
#include "art/identity/credential.h"
#include "art/identity/prekeys.h"
#include "art/protocol/member_group.h"

namespace art::baselines {

inline constexpr size_t kPrekeyHeaderSize = 32 + 32 + 4 + 1 + 4;
inline constexpr size_t kPairwiseMessageOverhead = 4 + 32 + 4 + 4 + 4 + 4 + kAes256GcmTagSize;
// A receiver refuses a message more than this many ahead in a chain.
inline constexpr uint32_t kMaxSkip = 1024;
// Own ratchet private keys kept for a peer that has not yet seen the newest.
inline constexpr size_t kMaxUnacknowledgedKeys = 8;

// Sent by the initiator with its first message: how to redo the X3DH agreement.
struct PrekeyHeader {
  X25519PublicKey initiator_identity{};
  X25519PublicKey base_key{};
  uint32_t signed_prekey_id = 0;
  std::optional<uint32_t> one_time_prekey_id;

  void EncodeTo(Encoder& encoder) const;
};

struct PairwiseMessage {
  uint32_t recipient = 0;  // Routing: the service delivers the message to this member only.
  X25519PublicKey ratchet_key{};
  uint32_t sender_step = 0;
  uint32_t recipient_step = 0;
  uint32_t counter = 0;
  Bytes ciphertext;

  void EncodeTo(Encoder& encoder) const;
  // Exactly the size of EncodeTo's output.
  size_t WireSize() const { return kPairwiseMessageOverhead - kAes256GcmTagSize + ciphertext.size(); }
};

// The first message of a session.
struct PrekeyMessage {
  PrekeyHeader header;
  PairwiseMessage message;

  size_t WireSize() const { return kPrekeyHeaderSize + message.WireSize(); }
};

// One member's session with one peer (both directions). A value; not thread-safe.
class PairwiseSession {
 public:
  struct Initiated;

  // The initiator |self| (member |self_index|) starts a session with the owner of |bundle| (member
  // |peer_index|): verifies the bundle under |trust|'s tenant keys (credential and signed prekey, as
  // ART's setup does), then runs the agreement with a fresh base key.
  static absl::StatusOr<Initiated> Initiate(const GroupConfig& trust, const MemberIdentity& self,
                                            uint32_t self_index, uint32_t peer_index,
                                            const v1::PrekeyBundle& bundle);

  // The responder's side: redoes the agreement from |header| with its prekey secrets and erases the
  // one-time prekey it consumed (only on success).
  static absl::StatusOr<PairwiseSession> Accept(const MemberIdentity& self, uint32_t self_index,
                                                uint32_t initiator_index, PrekeySecrets* prekeys,
                                                const PrekeyHeader& header);

  // Encrypts |payload| under the next key of the sending chain (consumed).
  absl::StatusOr<PairwiseMessage> Encrypt(ByteSpan payload);

  // Decrypts a message of this session's peer. Performs the receiving half of a DH ratchet step
  // when the message starts a new one. Changes nothing unless the message decrypts.
  absl::StatusOr<SecretBytes> Decrypt(const PairwiseMessage& message);

  // A DH ratchet step of the sending direction: a fresh ratchet key pair, one X25519 with the peer's
  // latest ratchet key, a new root and sending chain. Messages after it carry the new key.
  absl::Status Heal();

  uint32_t peer() const { return peer_; }
  uint32_t send_step() const { return send_step_; }

  // The attacker model of the tests: what a passive attacker who copied this session's whole state
  // (|stolen|) can make of a later message this party sent: it tries the stolen sending chain, and,
  // if the message starts a new step, every root step it can compute from the stolen root and the
  // stolen private ratchet keys. Returns the plaintext if one of them opens it.
  static absl::StatusOr<SecretBytes> OpenWithStolenState(const PairwiseSession& stolen,
                                                         const PairwiseMessage& message);

 private:
  PairwiseSession() = default;
  static absl::StatusOr<PairwiseSession> FromAgreement(const SecretBytes& agreement, bool initiator,
                                                       uint32_t self_index, uint32_t peer_index,
                                                       X25519PrivateKey own_ratchet_key,
                                                       const X25519PublicKey& peer_ratchet_key);
  // The AEAD additional data: the whole header.
  static Bytes AdditionalData(const PairwiseMessage& message);

  uint32_t self_ = 0;
  uint32_t peer_ = 0;
  // Sending direction.
  SecretBytes send_root_;
  SecretBytes send_chain_;
  uint32_t send_step_ = 0;
  uint32_t send_recipient_step_ = 0;  // The peer ratchet key the current sending chain used.
  uint32_t send_counter_ = 0;
  // Own ratchet key pairs by step; the newest is in every header. Older ones are kept until the peer
  // has used a newer one (or kMaxUnacknowledgedKeys is exceeded).
  std::map<uint32_t, X25519PrivateKey> own_ratchet_keys_;
  // Receiving direction.
  X25519PublicKey peer_ratchet_key_{};
  uint32_t peer_step_ = 0;
  SecretBytes receive_root_;
  SecretBytes receive_chain_;
  uint32_t receive_counter_ = 0;
};

struct PairwiseSession::Initiated {
  PairwiseSession session;
  PrekeyHeader header;
};

// One member's sessions with every other member of a group: what a pairwise group sender holds.
class PairwiseFanout {
 public:
  struct Created;

  // Initiates a session with the owner of each of |bundles| (members 1..n-1; |self| is member 0)
  // and sends each one |setup_payload| (e.g. the group id) in its first message.
  static absl::StatusOr<Created> Create(const GroupConfig& trust, const MemberIdentity& self,
                                        absl::Span<const v1::PrekeyBundle> bundles,
                                        ByteSpan setup_payload);

  // One ciphertext of |payload| per peer.
  absl::StatusOr<std::vector<PairwiseMessage>> Send(ByteSpan payload);

  // A DH ratchet step on every session, each announced by a message carrying |payload| (empty for a
  // plain heal; a new sender key for the sender-keys design).
  absl::StatusOr<std::vector<PairwiseMessage>> HealAndSend(ByteSpan payload);

  std::vector<PairwiseSession>& sessions() { return sessions_; }
  const std::vector<PairwiseSession>& sessions() const { return sessions_; }

 private:
  std::vector<PairwiseSession> sessions_;
};

struct PairwiseFanout::Created {
  PairwiseFanout fanout;
  std::vector<PrekeyMessage> setup_messages;  // One per peer, in bundle order.
};

// The sum of the messages' wire sizes.
size_t TotalWireSize(absl::Span<const PairwiseMessage> messages);
size_t TotalWireSize(absl::Span<const PrekeyMessage> messages);

}  // namespace art::baselines

#endif  // BENCH_BASELINES_PAIRWISE_H_
