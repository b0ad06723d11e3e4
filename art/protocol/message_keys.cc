#include "art/protocol/message_keys.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/encoding/encoder.h"
#include "art/suite/labeled.h"

namespace art {
namespace {

constexpr size_t kNonceSize = 12;

Bytes EncodeIndex(uint32_t index) {
  Encoder encoder;
  encoder.Uint32(index);
  return encoder.TakeBytes();
}

// key_k, nonce_k and chain_{k+1} from chain_k.
absl::StatusOr<std::pair<MessageKey, SecretBytes>> RatchetStep(const SecretBytes& chain,
                                                               uint32_t generation) {
  Bytes context = EncodeIndex(generation);
  MessageKey key;
  ART_ASSIGN_OR_RETURN(key.key, ExpandWithLabel(chain.span(), "key", context, kSecretSize));
  ART_ASSIGN_OR_RETURN(key.nonce, ExpandWithLabel(chain.span(), "nonce", context, kNonceSize));
  ART_ASSIGN_OR_RETURN(SecretBytes next, ExpandWithLabel(chain.span(), "chain", context, kSecretSize));
  return std::make_pair(std::move(key), std::move(next));
}

}  // namespace

SecretBytes ApplyReuseGuard(const SecretBytes& nonce, ByteSpan reuse_guard) {
  SecretBytes guarded = nonce;
  for (size_t i = 0; i < kReuseGuardSize && i < reuse_guard.size() && i < guarded.size(); ++i) {
    guarded.data()[i] ^= reuse_guard[i];
  }
  return guarded;
}

EpochMessageKeys::EpochMessageKeys(uint32_t leaf_count, SecretBytes application_secret)
    : leaf_count_(leaf_count) {
  frontier_.emplace(Root(leaf_count), std::move(application_secret));
}

void EpochMessageKeys::EncodeTo(Encoder& encoder) const {
  encoder.Uint32(leaf_count_).Uint32(static_cast<uint32_t>(frontier_.size()));
  for (const auto& [node, secret] : frontier_) encoder.Uint32(node).Vector(secret.span());
  encoder.Uint32(static_cast<uint32_t>(chains_.size()));
  for (const auto& [sender, chain] : chains_) {
    encoder.Uint32(sender).Uint32(chain.next_generation).Vector(chain.chain_secret.span());
    encoder.Uint32(static_cast<uint32_t>(chain.skipped.size()));
    for (const auto& [generation, key] : chain.skipped) {
      encoder.Uint32(generation).Vector(key.key.span()).Vector(key.nonce.span());
    }
  }
}

absl::StatusOr<EpochMessageKeys> EpochMessageKeys::DecodeFrom(Decoder& decoder) {
  const absl::Status malformed = absl::DataLossError("stored message keys are malformed");
  EpochMessageKeys keys;
  uint32_t frontier_size = 0;
  if (!decoder.ReadUint32(&keys.leaf_count_) || !decoder.ReadUint32(&frontier_size)) return malformed;
  for (uint32_t i = 0; i < frontier_size; ++i) {
    uint32_t node = 0;
    SecretBytes secret;
    if (!decoder.ReadUint32(&node) || !decoder.ReadSecret(&secret)) return malformed;
    keys.frontier_.emplace(node, std::move(secret));
  }
  uint32_t chain_count = 0;
  if (!decoder.ReadUint32(&chain_count)) return malformed;
  for (uint32_t i = 0; i < chain_count; ++i) {
    uint32_t sender = 0, skipped_count = 0;
    SenderChain chain;
    if (!decoder.ReadUint32(&sender) || !decoder.ReadUint32(&chain.next_generation) ||
        !decoder.ReadSecret(&chain.chain_secret) || !decoder.ReadUint32(&skipped_count) ||
        skipped_count > kMaxSkippedKeys) {
      return malformed;
    }
    for (uint32_t k = 0; k < skipped_count; ++k) {
      uint32_t generation = 0;
      MessageKey key;
      if (!decoder.ReadUint32(&generation) || !decoder.ReadSecret(&key.key) || !decoder.ReadSecret(&key.nonce)) {
        return malformed;
      }
      chain.skipped.emplace(generation, std::move(key));
    }
    keys.chains_.emplace(sender, std::move(chain));
  }
  return keys;
}

void EpochMessageKeys::Clear() {
  frontier_.clear();
  chains_.clear();
}

absl::StatusOr<EpochMessageKeys::SenderChain> EpochMessageKeys::CurrentChain(
    LeafIndex sender, std::optional<StagedMessageKey::FrontierChange>* change) const {
  if (auto existing = chains_.find(sender); existing != chains_.end()) {
    SenderChain chain;
    chain.next_generation = existing->second.next_generation;
    chain.chain_secret = existing->second.chain_secret;
    return chain;
  }
  // Find the lowest ancestor still on the frontier, then split down to the sender's leaf.
  const NodeIndex leaf = LeafToNode(sender);
  NodeIndex ancestor = leaf;
  std::vector<NodeIndex> path = DirectPath(leaf, leaf_count_);
  auto found = frontier_.find(leaf);
  for (size_t i = 0; found == frontier_.end() && i < path.size(); ++i) {
    ancestor = path[i];
    found = frontier_.find(ancestor);
  }
  if (found == frontier_.end()) {
    return absl::InternalError(absl::StrCat("no secret-tree secret covers leaf ", sender));
  }
  StagedMessageKey::FrontierChange frontier_change;
  frontier_change.erased = ancestor;
  SecretBytes current = found->second;
  NodeIndex node = ancestor;
  while (node != leaf) {
    const NodeIndex left = Left(node);
    const NodeIndex right = Right(node, leaf_count_);
    ART_ASSIGN_OR_RETURN(SecretBytes left_secret,
                         ExpandWithLabel(current.span(), "tree", AsBytes("left"), kSecretSize));
    ART_ASSIGN_OR_RETURN(SecretBytes right_secret,
                         ExpandWithLabel(current.span(), "tree", AsBytes("right"), kSecretSize));
    if (InSubtree(leaf, left)) {
      frontier_change.added.emplace_back(right, std::move(right_secret));
      current = std::move(left_secret);
      node = left;
    } else {
      frontier_change.added.emplace_back(left, std::move(left_secret));
      current = std::move(right_secret);
      node = right;
    }
  }
  SenderChain chain;
  ART_ASSIGN_OR_RETURN(chain.chain_secret,
                       ExpandWithLabel(current.span(), "sender", EncodeIndex(sender), kSecretSize));
  *change = std::move(frontier_change);
  return chain;
}

absl::StatusOr<StagedMessageKey> EpochMessageKeys::StageAt(LeafIndex sender, uint32_t generation,
                                                           bool sending) const {
  if (sender >= leaf_count_) {
    return absl::InvalidArgumentError(
        absl::StrCat("sender leaf ", sender, " is out of range for ", leaf_count_, " leaves"));
  }
  StagedMessageKey staged;
  staged.sender = sender;
  ART_ASSIGN_OR_RETURN(SenderChain chain, CurrentChain(sender, &staged.frontier_change));
  if (sending) generation = chain.next_generation;
  if (generation > kMaxGeneration) {
    return absl::InvalidArgumentError(absl::StrCat(
        "generation ", generation, " is the reserved last one: the sender must update first"));
  }
  staged.generation = generation;
  if (generation < chain.next_generation) {
    auto existing = chains_.find(sender);
    if (existing != chains_.end()) {
      auto skipped = existing->second.skipped.find(generation);
      if (skipped != existing->second.skipped.end()) {
        staged.key = skipped->second;
        staged.from_skipped = true;
        return staged;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat("the key for generation ", generation,
                                                   " of sender ", sender,
                                                   " was already used or dropped"));
  }
  if (generation - chain.next_generation > kMaxSkippedKeys) {
    return absl::InvalidArgumentError(absl::StrCat(
        "generation ", generation, " of sender ", sender, " is more than ", kMaxSkippedKeys,
        " beyond the next expected generation ", chain.next_generation));
  }
  SecretBytes chain_secret = std::move(chain.chain_secret);
  for (uint32_t k = chain.next_generation; k <= generation; ++k) {
    ART_ASSIGN_OR_RETURN(auto step, RatchetStep(chain_secret, k));
    chain_secret = std::move(step.second);
    if (k == generation) {
      staged.key = std::move(step.first);
    } else {
      staged.newly_skipped.emplace_back(k, std::move(step.first));
    }
  }
  staged.next_chain_secret = std::move(chain_secret);
  staged.next_generation = generation + 1;
  return staged;
}

absl::StatusOr<StagedMessageKey> EpochMessageKeys::StageSend(LeafIndex sender) const {
  return StageAt(sender, 0, /*sending=*/true);
}

absl::StatusOr<StagedMessageKey> EpochMessageKeys::StageReceive(LeafIndex sender,
                                                                uint32_t generation) const {
  return StageAt(sender, generation, /*sending=*/false);
}

void EpochMessageKeys::Apply(StagedMessageKey staged) {
  if (staged.frontier_change.has_value()) {
    frontier_.erase(staged.frontier_change->erased);
    for (auto& [node, secret] : staged.frontier_change->added) {
      frontier_.insert_or_assign(node, std::move(secret));
    }
  }
  SenderChain& chain = chains_[staged.sender];
  if (staged.from_skipped) {
    chain.skipped.erase(staged.generation);
    return;
  }
  for (auto& [generation, key] : staged.newly_skipped) {
    chain.skipped.insert_or_assign(generation, std::move(key));
  }
  // Bound the skipped keys: the oldest go first.
  while (chain.skipped.size() > kMaxSkippedKeys) chain.skipped.erase(chain.skipped.begin());
  chain.chain_secret = std::move(staged.next_chain_secret);
  chain.next_generation = staged.next_generation;
}

}  // namespace art
