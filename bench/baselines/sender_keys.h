// Baseline 2: sender keys, as WhatsApp and Messenger groups send. Every member has a sender key: a
// symmetric chain (ratchet_kdf.h) and an Ed25519 signature key. A group message is ONE ciphertext
// under the sender's next chain key, signed with its signature key, which the service fans out. A
// member distributes its sender key to every other member over the pairwise channels (pairwise.h).
//
// Healing after the device of member V was compromised: V makes a new sender key (new chain, new
// signature key, key id + 1) and sends it to each of the n-1 others over its pairwise sessions,
// each after a DH ratchet step (the stolen sessions would otherwise hand the new key to the
// attacker). Receivers then refuse V's old key. What it does NOT heal: every OTHER member's sender
// key that V's device held stays known to the attacker until that member rotates its own.
//
// Wire model (canonical encoding, art/encoding):
//   SenderKeyMessage      = group_id vector<u32 length> | sender u32 | key_id u32 | counter u32 |
//                           ciphertext vector<u32 length> (payload + 16-byte tag) | signature [64]
//                         = kSenderKeyMessageOverhead (100) + |group_id| + payload bytes
//   SenderKeyDistribution = sender u32 | key_id u32 | counter u32 | chain [32] | signature key [32]
//                         = 76 bytes, sent as the payload of a pairwise message.
#ifndef BENCH_BASELINES_SENDER_KEYS_H_
#define BENCH_BASELINES_SENDER_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/secret_bytes.h"
#include "art/protocol/member_group.h"
#include "bench/baselines/pairwise.h"

namespace art::baselines {

inline constexpr size_t kSenderKeyMessageOverhead =
    4 + 4 + 4 + 4 + 4 + kAes256GcmTagSize + kEd25519SignatureSize;
inline constexpr size_t kSenderKeyDistributionSize = 4 + 4 + 4 + 32 + 32;

struct SenderKeyMessage {
  std::string group_id;
  uint32_t sender = 0;
  uint32_t key_id = 0;
  uint32_t counter = 0;
  Bytes ciphertext;
  Ed25519Signature signature{};

  void EncodeTo(Encoder& encoder) const;
  // Exactly the size of EncodeTo's output.
  size_t WireSize() const {
    return kSenderKeyMessageOverhead - kAes256GcmTagSize + group_id.size() + ciphertext.size();
  }
};

// A sender key as distributed: secret (it travels only inside pairwise ciphertexts).
struct SenderKeyDistribution {
  uint32_t sender = 0;
  uint32_t key_id = 0;
  uint32_t counter = 0;  // The next message number.
  SecretBytes chain;
  Ed25519PublicKey signature_key{};

  SecretBytes Encode() const;
  static absl::StatusOr<SenderKeyDistribution> Decode(ByteSpan encoded);
};

// A member's own sender key.
class OwnSenderKey {
 public:
  // A fresh sender key with |key_id| for member |sender|.
  static absl::StatusOr<OwnSenderKey> Generate(uint32_t sender, uint32_t key_id);

  // Encrypts and signs |payload| for the group under the next chain key (consumed).
  absl::StatusOr<SenderKeyMessage> Encrypt(const std::string& group_id, ByteSpan payload);

  // The key as the others need it, from the current chain position on.
  SenderKeyDistribution Distribution() const;
  uint32_t key_id() const { return key_id_; }

 private:
  OwnSenderKey(uint32_t sender, uint32_t key_id, SecretBytes chain, Ed25519PrivateKey signing_key)
      : sender_(sender), key_id_(key_id), chain_(std::move(chain)), signing_key_(std::move(signing_key)) {}

  uint32_t sender_ = 0;
  uint32_t key_id_ = 0;
  SecretBytes chain_;
  uint32_t counter_ = 0;
  Ed25519PrivateKey signing_key_;
};

// The sender keys a member has received, one per other member (the newest key id only).
class SenderKeyStore {
 public:
  // Installs a distributed key; refused if it is not newer than the one held for that sender.
  absl::Status Install(const SenderKeyDistribution& distribution);

  // Verifies the signature, then decrypts, under the sender's installed key. Changes nothing unless
  // everything verifies; refuses messages under a key id other than the installed one.
  absl::StatusOr<SecretBytes> Decrypt(const SenderKeyMessage& message);

 private:
  struct Received {
    uint32_t key_id = 0;
    uint32_t counter = 0;
    SecretBytes chain;
    Ed25519PublicKey signature_key{};
  };
  std::map<uint32_t, Received> keys_;
};

// The creator's side of a sender-keys group: its pairwise sessions and its own sender key.
class SenderKeySender {
 public:
  struct Created;

  // Pairwise sessions with every member of |bundles| (members 1..n-1), each first message carrying
  // this member's sender key distribution.
  static absl::StatusOr<Created> Create(const GroupConfig& trust, const MemberIdentity& self,
                                        std::string group_id,
                                        absl::Span<const v1::PrekeyBundle> bundles);

  // One signed ciphertext for the whole group.
  absl::StatusOr<SenderKeyMessage> Send(ByteSpan payload);

  // The heal: a new sender key, distributed over every pairwise session after a DH ratchet step.
  absl::StatusOr<std::vector<PairwiseMessage>> Heal();

  PairwiseFanout& fanout() { return fanout_; }
  const OwnSenderKey& own_key() const { return own_key_; }

 private:
  SenderKeySender(std::string group_id, PairwiseFanout fanout, OwnSenderKey own_key)
      : group_id_(std::move(group_id)), fanout_(std::move(fanout)), own_key_(std::move(own_key)) {}

  std::string group_id_;
  PairwiseFanout fanout_;
  OwnSenderKey own_key_;
};

struct SenderKeySender::Created {
  SenderKeySender sender;
  std::vector<PrekeyMessage> setup_messages;
};

}  // namespace art::baselines

#endif  // BENCH_BASELINES_SENDER_KEYS_H_
