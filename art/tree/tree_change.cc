#include "art/tree/tree_change.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "art/crypto/hash.h"
#include "art/encoding/encoder.h"
#include "art/tree/partial_tree.h"
#include "art/tree/public_tree.h"

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

Sha256Digest HashLeafNode(LeafIndex leaf, const X25519PublicKey* key, const LeafOccupant* occupant) {
  Encoder encoder;
  encoder.Uint8(kLeafHashTag).Uint32(leaf).Bool(occupant == nullptr);
  encoder.Vector(key != nullptr ? ByteSpan(*key) : ByteSpan());
  encoder.Vector(occupant != nullptr ? ByteSpan(occupant->credential_hash) : ByteSpan());
  return Sha256(encoder.bytes());
}

template <typename Tree>
absl::StatusOr<TreeChange> StagePathOn(const Tree& tree, LeafIndex start_leaf,
                                       absl::Span<const X25519PublicKey> path_keys,
                                       std::optional<LeafOccupant> occupant,
                                       LeafIndex start_keyed_by) {
  const uint32_t leaf_count = tree.leaf_count();
  if (start_leaf > leaf_count || start_leaf >= kMaxLeaves) {
    return absl::InvalidArgumentError(
        absl::StrCat("path start leaf ", start_leaf, " is out of range for ", leaf_count, " leaves"));
  }
  TreeChange change;
  change.new_leaf_count = std::max(leaf_count, start_leaf + 1);
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
    if (tree.IsCopySource(sibling)) {
      if (path_keys[level + 1] != path_keys[level]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "path key at node ", parent, " must equal its child's key: its other child ", sibling,
            " is blank"));
      }
      if (IsLeaf(sibling) && tree.key(sibling) != nullptr) change.dropped_leaf = NodeToLeaf(sibling);
    }
    change.keys.emplace_back(parent, path_keys[level + 1]);
    child = parent;
  }

  // Hashes bottom up over the staged keys; everything off the path keeps its stored hash.
  auto hash_of = [&](NodeIndex node) -> const Sha256Digest& {
    if (const Sha256Digest* staged = FindStaged(change.hashes, node)) return *staged;
    return tree.node_hash(node);
  };
  if (change.dropped_leaf != kNoLeaf) {
    change.hashes.emplace_back(LeafToNode(change.dropped_leaf),
                               HashLeafNode(change.dropped_leaf, nullptr, nullptr));
  }
  change.hashes.emplace_back(start, HashLeafNode(start_leaf, &path_keys[0],
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

template absl::StatusOr<TreeChange> StagePathOn<PublicTree>(const PublicTree&, LeafIndex,
                                                             absl::Span<const X25519PublicKey>,
                                                             std::optional<LeafOccupant>, LeafIndex);
template absl::StatusOr<TreeChange> StagePathOn<PartialTree>(const PartialTree&, LeafIndex,
                                                              absl::Span<const X25519PublicKey>,
                                                              std::optional<LeafOccupant>, LeafIndex);

}  // namespace art
