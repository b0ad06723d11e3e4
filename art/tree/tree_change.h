// What the public tree's kinds share: leaf occupants, the effect of a path change, the tree-hash
// pieces, and the one implementation of path validation (StagePathOn) that runs on a whole tree
// (members) and on the part of a tree a service loads for one commit.
#ifndef ART_TREE_TREE_CHANGE_H_
#define ART_TREE_TREE_CHANGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "art/crypto/bytes.h"
#include "art/tree/tree_math.h"

namespace art {

// Marks "nobody": a leaf keyed only by its owner, or no leaf found.
inline constexpr LeafIndex kNoLeaf = 0xffffffffu;

// What the group keeps about the member at an occupied leaf.
struct LeafOccupant {
  std::string member_id;
  Ed25519PublicKey signing_key{};  // IKs: verifies the commits this member signs.
  Sha256Digest credential_hash{};
};

// The public effect of one path change (see PublicTree::StagePath).
struct TreeChange {
  uint32_t new_leaf_count = 0;
  LeafIndex start_leaf = 0;
  // The start leaf's new occupant; nullopt blanks the leaf (a removal).
  std::optional<LeafOccupant> occupant;
  LeafIndex start_keyed_by = kNoLeaf;
  // A blank sibling leaf whose key the path drops (the copy rule), or kNoLeaf.
  LeafIndex dropped_leaf = kNoLeaf;
  // New public keys of the start leaf and its direct path, bottom up.
  std::vector<std::pair<NodeIndex, X25519PublicKey>> keys;
  // New node hashes, bottom up.
  std::vector<std::pair<NodeIndex, Sha256Digest>> hashes;
  Sha256Digest tree_hash{};
};

// Tree hash pieces:
//   leaf   = H(u8(0) || u32(index) || u8(blank) || vector(key or empty) || vector(cred_hash or empty))
//   parent = H(u8(1) || vector(key or empty) || left hash || right hash)
//   tree   = H(u8(2) || u32(leaf count) || root hash)
Sha256Digest HashLeafNode(LeafIndex leaf, const X25519PublicKey* key, const LeafOccupant* occupant);
Sha256Digest HashParentNode(const X25519PublicKey* key, const Sha256Digest& left,
                            const Sha256Digest& right);
Sha256Digest HashTreeRoot(uint32_t leaf_count, const Sha256Digest& root_hash);

// Validates and computes a path change from |start_leaf| (0 <= start_leaf <= leaf_count; equal to
// leaf_count appends a leaf). |path_keys| holds the start leaf's key and then one key per node of its
// direct path in the resulting tree. Where a path node's other child is a copy source, its key must
// equal its path child's (INVALID_ARGUMENT otherwise), and a blank sibling leaf's key is dropped.
// Reads only the start leaf, its direct path and copath. |Tree| is PublicTree or PartialTree.
template <typename Tree>
absl::StatusOr<TreeChange> StagePathOn(const Tree& tree, LeafIndex start_leaf,
                                       absl::Span<const X25519PublicKey> path_keys,
                                       std::optional<LeafOccupant> occupant,
                                       LeafIndex start_keyed_by);

}  // namespace art

#endif  // ART_TREE_TREE_CHANGE_H_
