#include "art/tree/public_tree.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "art/crypto/hash.h"
#include "art/crypto/secret_bytes.h"
#include "art/encoding/encoder.h"

namespace art {
namespace {

// Domain separation of the three kinds of tree-hash input.
constexpr uint8_t kLeafHashTag = 0;
constexpr uint8_t kParentHashTag = 1;
constexpr uint8_t kRootHashTag = 2;

// A small overlay of staged values over the stored ones: paths are at most 17 nodes long, so a
// linear search beats any map.
template <typename Value>
const Value* FindStaged(const std::vector<std::pair<NodeIndex, Value>>& staged, NodeIndex node) {
  for (const auto& [index, value] : staged) {
    if (index == node) return &value;
  }
  return nullptr;
}

}  // namespace

Sha256Digest HashParentNode(const X25519PublicKey* key, const Sha256Digest& left,
                            const Sha256Digest& right) {
  Encoder encoder;
  encoder.Uint8(kParentHashTag);
  encoder.Vector(key != nullptr ? ByteSpan(*key) : ByteSpan());
  encoder.Raw(left).Raw(right);
  return Sha256(encoder.bytes());
}

Sha256Digest HashTreeRoot(uint32_t leaf_count, const Sha256Digest& root_hash) {
  Encoder encoder;
  encoder.Uint8(kRootHashTag).Uint32(leaf_count).Raw(root_hash);
  return Sha256(encoder.bytes());
}

Sha256Digest PublicTree::LeafHash(LeafIndex leaf, const X25519PublicKey* key,
                                  const LeafOccupant* occupant) const {
  Encoder encoder;
  encoder.Uint8(kLeafHashTag).Uint32(leaf).Bool(occupant == nullptr);
  encoder.Vector(key != nullptr ? ByteSpan(*key) : ByteSpan());
  encoder.Vector(occupant != nullptr ? ByteSpan(occupant->credential_hash) : ByteSpan());
  return Sha256(encoder.bytes());
}

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
    hashes_[LeafToNode(leaf)] = LeafHash(leaf, key(LeafToNode(leaf)), occupant(leaf));
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

absl::StatusOr<TreeChange> PublicTree::StagePath(LeafIndex start_leaf,
                                                 absl::Span<const X25519PublicKey> path_keys,
                                                 std::optional<LeafOccupant> occupant,
                                                 LeafIndex start_keyed_by) const {
  if (start_leaf > leaf_count_ || start_leaf >= kMaxLeaves) {
    return absl::InvalidArgumentError(
        absl::StrCat("path start leaf ", start_leaf, " is out of range for ", leaf_count_, " leaves"));
  }
  TreeChange change;
  change.new_leaf_count = std::max(leaf_count_, start_leaf + 1);
  change.start_leaf = start_leaf;
  change.start_keyed_by = start_keyed_by;
  const uint32_t n = change.new_leaf_count;
  const NodeIndex start = LeafToNode(start_leaf);
  const std::vector<NodeIndex> direct_path = DirectPath(start, n);
  if (path_keys.size() != direct_path.size() + 1) {
    return absl::InvalidArgumentError(absl::StrCat("a path from leaf ", start_leaf, " in a tree of ", n,
                                                   " leaves has ", direct_path.size() + 1,
                                                   " keys, got ", path_keys.size()));
  }
  change.keys.reserve(path_keys.size());
  change.keys.emplace_back(start, path_keys[0]);
  NodeIndex child = start;
  for (size_t level = 0; level < direct_path.size(); ++level) {
    const NodeIndex parent = direct_path[level];
    const NodeIndex sibling = Sibling(child, n);
    if (IsCopySource(sibling)) {
      if (path_keys[level + 1] != path_keys[level]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "path key at node ", parent, " must equal its child's key: its other child ", sibling,
            " is blank"));
      }
      if (IsLeaf(sibling) && key(sibling) != nullptr) change.dropped_leaf = NodeToLeaf(sibling);
    }
    change.keys.emplace_back(parent, path_keys[level + 1]);
    child = parent;
  }

  // Hashes bottom up over the staged keys; everything off the path keeps its stored hash.
  auto hash_of = [&](NodeIndex node) -> const Sha256Digest& {
    if (const Sha256Digest* staged = FindStaged(change.hashes, node)) return *staged;
    return hashes_[node];
  };
  if (change.dropped_leaf != kNoLeaf) {
    change.hashes.emplace_back(LeafToNode(change.dropped_leaf),
                               LeafHash(change.dropped_leaf, nullptr, nullptr));
  }
  change.hashes.emplace_back(start, LeafHash(start_leaf, &path_keys[0],
                                             occupant.has_value() ? &*occupant : nullptr));
  for (size_t level = 0; level < direct_path.size(); ++level) {
    const NodeIndex parent = direct_path[level];
    change.hashes.emplace_back(parent, HashParentNode(&path_keys[level + 1], hash_of(Left(parent)),
                                                      hash_of(Right(parent, n))));
  }
  change.tree_hash = HashTreeRoot(n, change.hashes.back().second);
  change.occupant = std::move(occupant);
  return change;
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
