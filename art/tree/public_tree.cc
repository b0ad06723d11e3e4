#include "art/tree/public_tree.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "art/crypto/hash.h"
#include "art/crypto/secret_bytes.h"
#include "art/encoding/encoder.h"

namespace art {

absl::StatusOr<PublicTree> PublicTree::Create(std::vector<LeafOccupant> occupants,
                                              std::vector<X25519PublicKey> node_keys,
                                              std::vector<LeafIndex> keyed_by) {
  std::vector<std::optional<LeafOccupant>> optional_occupants(occupants.size());
  for (size_t i = 0; i < occupants.size(); ++i) optional_occupants[i] = std::move(occupants[i]);
  std::vector<std::optional<X25519PublicKey>> optional_keys(node_keys.begin(), node_keys.end());
  return Load(std::move(optional_occupants), std::move(optional_keys), std::move(keyed_by));
}

absl::StatusOr<PublicTree> PublicTree::Load(std::vector<std::optional<LeafOccupant>> occupants,
                                            std::vector<std::optional<X25519PublicKey>> node_keys,
                                            std::vector<LeafIndex> keyed_by) {
  const size_t leaf_count = occupants.size();
  if (leaf_count == 0 || leaf_count > kMaxLeaves) {
    return absl::InvalidArgumentError(
        absl::StrCat("a tree has 1 to ", kMaxLeaves, " leaves, got ", leaf_count));
  }
  if (node_keys.size() != NodeWidth(static_cast<uint32_t>(leaf_count))) {
    return absl::InvalidArgumentError(absl::StrCat("a tree of ", leaf_count, " leaves has ",
                                                   NodeWidth(static_cast<uint32_t>(leaf_count)),
                                                   " node keys, got ", node_keys.size()));
  }
  if (keyed_by.size() != leaf_count) {
    return absl::InvalidArgumentError("keyed_by must have one entry per leaf");
  }
  PublicTree tree;
  tree.leaf_count_ = static_cast<uint32_t>(leaf_count);
  tree.occupants_ = std::move(occupants);
  tree.keyed_by_ = std::move(keyed_by);
  tree.keys_.resize(node_keys.size());
  tree.has_key_.resize(node_keys.size());
  for (size_t node = 0; node < node_keys.size(); ++node) {
    if (node_keys[node].has_value()) {
      tree.keys_[node] = *node_keys[node];
      tree.has_key_[node] = 1;
    }
  }
  for (LeafIndex leaf = 0; leaf < leaf_count; ++leaf) {
    if (tree.occupants_[leaf].has_value() && !tree.has_key_[LeafToNode(leaf)]) {
      return absl::InvalidArgumentError(absl::StrCat("occupied leaf ", leaf, " has no key"));
    }
    if (tree.keyed_by_[leaf] != kNoLeaf && tree.keyed_by_[leaf] >= leaf_count) {
      return absl::InvalidArgumentError(absl::StrCat("keyed_by of leaf ", leaf, " is out of range"));
    }
  }
  tree.RecomputeAllHashes();
  return tree;
}

void PublicTree::RecomputeAllHashes() {
  const uint32_t width = NodeWidth(leaf_count_);
  hashes_.assign(width, Sha256Digest{});
  for (LeafIndex leaf = 0; leaf < leaf_count_; ++leaf) {
    hashes_[LeafToNode(leaf)] = HashLeafNode(leaf, key(LeafToNode(leaf)), occupant(leaf));
  }
  // Parents by increasing level, so both children are always ready.
  for (uint32_t level = 1; (1u << level) <= width; ++level) {
    for (NodeIndex node = (1u << level) - 1; node < width; node += (1u << (level + 1))) {
      hashes_[node] = HashParentNode(key(node), hashes_[Left(node)], hashes_[Right(node, leaf_count_)]);
    }
  }
  tree_hash_ = HashTreeRoot(leaf_count_, hashes_[Root(leaf_count_)]);
}

const LeafOccupant* PublicTree::occupant(LeafIndex leaf) const {
  if (leaf >= leaf_count_ || !occupants_[leaf].has_value()) return nullptr;
  return &*occupants_[leaf];
}

const X25519PublicKey* PublicTree::key(NodeIndex node) const {
  if (node >= keys_.size() || !has_key_[node]) return nullptr;
  return &keys_[node];
}

bool PublicTree::IsCopySource(NodeIndex node) const {
  if (IsLeaf(node)) return occupant(NodeToLeaf(node)) == nullptr;
  return key(node) == nullptr;
}

LeafIndex PublicTree::LeftmostBlankLeaf() const {
  for (LeafIndex leaf = 0; leaf < leaf_count_; ++leaf) {
    if (!occupants_[leaf].has_value()) return leaf;
  }
  return kNoLeaf;
}

LeafIndex PublicTree::FindMember(std::string_view member_id) const {
  for (LeafIndex leaf = 0; leaf < leaf_count_; ++leaf) {
    if (occupants_[leaf].has_value() && occupants_[leaf]->member_id == member_id) return leaf;
  }
  return kNoLeaf;
}

uint32_t PublicTree::member_count() const {
  return static_cast<uint32_t>(std::count_if(occupants_.begin(), occupants_.end(),
                                             [](const auto& o) { return o.has_value(); }));
}

bool PublicTree::SubtreeHasTaint(NodeIndex node) const {
  for (LeafIndex leaf = SubtreeFirstLeaf(node); leaf < SubtreeEndLeaf(node, leaf_count_); ++leaf) {
    if (keyed_by_[leaf] != kNoLeaf) return true;
  }
  return false;
}

void PublicTree::Apply(TreeChange change) {
  if (change.new_leaf_count > leaf_count_) {
    leaf_count_ = change.new_leaf_count;
    const uint32_t width = NodeWidth(leaf_count_);
    occupants_.resize(leaf_count_);
    keyed_by_.resize(leaf_count_, kNoLeaf);
    keys_.resize(width);
    has_key_.resize(width, 0);
    hashes_.resize(width);
  }
  occupants_[change.start_leaf] = std::move(change.occupant);
  keyed_by_[change.start_leaf] = change.start_keyed_by;
  if (change.dropped_leaf != kNoLeaf) {
    has_key_[LeafToNode(change.dropped_leaf)] = 0;
    keys_[LeafToNode(change.dropped_leaf)] = X25519PublicKey{};
    keyed_by_[change.dropped_leaf] = kNoLeaf;
  }
  for (const auto& [node, key] : change.keys) {
    keys_[node] = key;
    has_key_[node] = 1;
  }
  for (const auto& [node, hash] : change.hashes) hashes_[node] = hash;
  tree_hash_ = change.tree_hash;
}

void PublicTree::EncodeTo(Encoder& encoder) const {
  encoder.Uint32(leaf_count_);
  for (LeafIndex leaf = 0; leaf < leaf_count_; ++leaf) {
    const LeafOccupant* occupant = this->occupant(leaf);
    encoder.Bool(occupant != nullptr);
    if (occupant != nullptr) {
      encoder.String(occupant->member_id).Raw(occupant->signing_key).Raw(occupant->credential_hash);
    }
    encoder.Uint32(keyed_by_[leaf]);
  }
  for (NodeIndex node = 0; node < NodeWidth(leaf_count_); ++node) {
    encoder.Bool(has_key_[node] != 0);
    if (has_key_[node]) encoder.Raw(keys_[node]);
  }
  encoder.Raw(tree_hash_);
}

absl::StatusOr<PublicTree> PublicTree::DecodeFrom(Decoder& decoder) {
  const absl::Status malformed = absl::DataLossError("stored tree is malformed");
  uint32_t leaf_count = 0;
  if (!decoder.ReadUint32(&leaf_count) || leaf_count == 0 || leaf_count > kMaxLeaves) return malformed;
  std::vector<std::optional<LeafOccupant>> occupants(leaf_count);
  std::vector<LeafIndex> keyed_by(leaf_count);
  for (LeafIndex leaf = 0; leaf < leaf_count; ++leaf) {
    bool occupied = false;
    if (!decoder.ReadBool(&occupied)) return malformed;
    if (occupied) {
      LeafOccupant occupant;
      if (!decoder.ReadString(&occupant.member_id) || !decoder.ReadArray(&occupant.signing_key) ||
          !decoder.ReadArray(&occupant.credential_hash)) {
        return malformed;
      }
      occupants[leaf] = std::move(occupant);
    }
    if (!decoder.ReadUint32(&keyed_by[leaf])) return malformed;
  }
  std::vector<std::optional<X25519PublicKey>> keys(NodeWidth(leaf_count));
  for (auto& key : keys) {
    bool has_key = false;
    if (!decoder.ReadBool(&has_key)) return malformed;
    if (has_key && !decoder.ReadArray(&key.emplace())) return malformed;
  }
  Sha256Digest stored_hash;
  if (!decoder.ReadArray(&stored_hash)) return malformed;
  absl::StatusOr<PublicTree> tree = Load(std::move(occupants), std::move(keys), std::move(keyed_by));
  if (!tree.ok()) return tree.status();
  if (tree->tree_hash() != stored_hash) return absl::DataLossError("stored tree does not match its tree hash");
  return tree;
}

size_t PublicTree::MemoryUsage() const {
  size_t bytes = sizeof(*this);
  bytes += occupants_.capacity() * sizeof(std::optional<LeafOccupant>);
  for (const auto& occupant : occupants_) {
    if (occupant.has_value() && occupant->member_id.capacity() > 15) {
      bytes += occupant->member_id.capacity() + 1;
    }
  }
  bytes += keyed_by_.capacity() * sizeof(LeafIndex);
  bytes += keys_.capacity() * sizeof(X25519PublicKey);
  bytes += has_key_.capacity();
  bytes += hashes_.capacity() * sizeof(Sha256Digest);
  return bytes;
}

}  // namespace art
