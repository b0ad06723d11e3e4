// Application message keys of one epoch.
//
// The epoch's application secret roots an RFC 9420-style secret tree over the epoch's leaves:
//   left = ExpandWithLabel(parent, "tree", "left", 32), right = ... "right" ...
// and each parent is erased as soon as its children exist. A sender's chain starts at
//   chain_0[i] = ExpandWithLabel(tree_secret[leaf i], "sender", encode(i), 32)
// and ratchets per message:
//   key_k = ExpandWithLabel(chain_k, "key", encode(k), 32), nonce_k = ... "nonce" ..., 12)
//   chain_{k+1} = ExpandWithLabel(chain_k, "chain", encode(k), 32)
// so a key, once used and erased, cannot be recomputed (forward secrecy within the epoch).
//
// Lookups are staged: StageSend/StageReceive compute a key without changing anything, and Apply
// consumes it. A message that fails to decrypt or verify therefore consumes nothing.
#ifndef ART_PROTOCOL_MESSAGE_KEYS_H_
#define ART_PROTOCOL_MESSAGE_KEYS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"
#include "art/encoding/encoder.h"
#include "art/tree/tree_math.h"

namespace art {

// A receiver keeps at most this many skipped keys per sender, and refuses a message more than this
// many generations ahead.
inline constexpr uint32_t kMaxSkippedKeys = 1024;
// The last generation is never used: a sender at this point must update first.
inline constexpr uint32_t kMaxGeneration = UINT32_MAX - 1;

struct MessageKey {
  SecretBytes key;    // 32 bytes, AES-256-GCM.
  SecretBytes nonce;  // 12 bytes.
};

// Size of the random reuse guard sent with each message.
inline constexpr size_t kReuseGuardSize = 4;

// The message nonce with its first 4 bytes XORed with |reuse_guard| (RFC 9420 section 6.3.1), so
// that a nonce is not reused even if a sender's state was rolled back. |reuse_guard| must be 4 bytes.
SecretBytes ApplyReuseGuard(const SecretBytes& nonce, ByteSpan reuse_guard);

// The result of a staged lookup; pass it back to Apply() to consume the key.
struct StagedMessageKey {
  LeafIndex sender = 0;
  uint32_t generation = 0;
  MessageKey key;

  // Internal: how to change the state when the key is consumed.
  struct FrontierChange {
    NodeIndex erased = 0;
    std::vector<std::pair<NodeIndex, SecretBytes>> added;
  };
  std::optional<FrontierChange> frontier_change;
  bool from_skipped = false;
  std::vector<std::pair<uint32_t, MessageKey>> newly_skipped;
  SecretBytes next_chain_secret;
  uint32_t next_generation = 0;
};

class EpochMessageKeys {
 public:
  EpochMessageKeys() = default;
  // Takes ownership of the epoch's application secret; it is erased once split.
  EpochMessageKeys(uint32_t leaf_count, SecretBytes application_secret);

  // The key |sender| uses for its next message.
  absl::StatusOr<StagedMessageKey> StageSend(LeafIndex sender) const;

  // The key for |sender|'s message number |generation|. Fails (INVALID_ARGUMENT) for a sender out of
  // range, the reserved last generation, a generation more than kMaxSkippedKeys ahead, or one
  // already consumed or dropped.
  absl::StatusOr<StagedMessageKey> StageReceive(LeafIndex sender, uint32_t generation) const;

  // Consumes a key staged on this exact state.
  void Apply(StagedMessageKey staged);

  // Erases every secret.
  void Clear();

  // Appends every secret this epoch still holds to |encoder| (a member's encrypted stored state);
  // DecodeFrom reads it back.
  void EncodeTo(Encoder& encoder) const;
  static absl::StatusOr<EpochMessageKeys> DecodeFrom(Decoder& decoder);

  uint32_t leaf_count() const { return leaf_count_; }

 private:
  struct SenderChain {
    uint32_t next_generation = 0;
    SecretBytes chain_secret;
    std::map<uint32_t, MessageKey> skipped;
  };

  // The sender's current chain state, derived from the secret tree when the sender is new.
  absl::StatusOr<SenderChain> CurrentChain(LeafIndex sender,
                                           std::optional<StagedMessageKey::FrontierChange>* change) const;
  absl::StatusOr<StagedMessageKey> StageAt(LeafIndex sender, uint32_t generation, bool sending) const;

  uint32_t leaf_count_ = 0;
  std::map<NodeIndex, SecretBytes> frontier_;
  std::map<LeafIndex, SenderChain> chains_;
};

}  // namespace art

#endif  // ART_PROTOCOL_MESSAGE_KEYS_H_
