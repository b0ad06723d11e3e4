// The public ratchet tree of a group: who sits at each leaf, every node's X25519 public key, who else
// knows each leaf's secret (taint), and an incrementally maintained Merkle tree hash.
//
// Changes are staged: StagePath() validates a path change and computes its effect (O(log n) keys and
// hashes) without touching the tree; Apply() then installs it and cannot fail. A rejected change
// therefore leaves the tree exactly as it was, and no operation copies or rehashes the whole tree.
#ifndef ART_TREE_PUBLIC_TREE_H_
#define ART_TREE_PUBLIC_TREE_H_

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

class PublicTree {
 public:
  // An empty tree of no leaves: only a placeholder to assign a real tree to.
  PublicTree() = default;

  // A fully keyed tree of |occupants.size()| occupied leaves with |node_keys| in array order
  // (2n-1 keys). Leaf i is marked as keyed by |keyed_by[i]| (kNoLeaf for none).
  static absl::StatusOr<PublicTree> Create(std::vector<LeafOccupant> occupants,
                                           std::vector<X25519PublicKey> node_keys,
                                           std::vector<LeafIndex> keyed_by);

  // A tree of arbitrary shape (for loading stored or fetched state); |occupants[i]| nullopt is a blank
  // leaf, |node_keys[x]| nullopt a key-less node. Validates sizes and recomputes every hash.
  static absl::StatusOr<PublicTree> Load(std::vector<std::optional<LeafOccupant>> occupants,
                                         std::vector<std::optional<X25519PublicKey>> node_keys,
                                         std::vector<LeafIndex> keyed_by);

  uint32_t leaf_count() const { return leaf_count_; }
  // The occupant of |leaf|, or nullptr when it is blank or out of range.
  const LeafOccupant* occupant(LeafIndex leaf) const;
  // The public key of |node|, or nullptr when the node has none.
  const X25519PublicKey* key(NodeIndex node) const;
  // Who besides the owner knows |leaf|'s secret, or kNoLeaf.
  LeafIndex keyed_by(LeafIndex leaf) const { return keyed_by_[leaf]; }
  // True when |node| contributes no Diffie-Hellman share to its parent: a blank leaf (even one still
  // holding the remover's key) or a node without a key. A path through its parent copies the path
  // child's key pair instead.
  bool IsCopySource(NodeIndex node) const;
  // The leftmost blank leaf, where an Add goes; kNoLeaf when all are occupied (the Add appends).
  LeafIndex LeftmostBlankLeaf() const;
  // The leaf of the member with |member_id|, or kNoLeaf.
  LeafIndex FindMember(std::string_view member_id) const;
  uint32_t member_count() const;
  // True if a leaf in the subtree at |node| is keyed by someone other than its owner.
  bool SubtreeHasTaint(NodeIndex node) const;

  const Sha256Digest& tree_hash() const { return tree_hash_; }
  const Sha256Digest& node_hash(NodeIndex node) const { return hashes_[node]; }

  // Validates and computes a path change from |start_leaf| (0 <= start_leaf <= leaf_count; equal to
  // leaf_count appends a leaf). |path_keys| holds the start leaf's key and then one key per node of
  // its direct path in the resulting tree. Where a path node's other child is a copy source, its key
  // must equal its path child's (INVALID_ARGUMENT otherwise). Does not modify the tree.
  absl::StatusOr<TreeChange> StagePath(LeafIndex start_leaf,
                                       absl::Span<const X25519PublicKey> path_keys,
                                       std::optional<LeafOccupant> occupant,
                                       LeafIndex start_keyed_by) const;

  // Installs a change staged on this exact tree.
  void Apply(TreeChange change);

  // Approximate heap bytes held, for the state-size benchmark.
  size_t MemoryUsage() const;

 private:
  void RecomputeAllHashes();
  Sha256Digest LeafHash(LeafIndex leaf, const X25519PublicKey* key,
                        const LeafOccupant* occupant) const;

  uint32_t leaf_count_ = 0;
  std::vector<std::optional<LeafOccupant>> occupants_;
  std::vector<LeafIndex> keyed_by_;
  std::vector<X25519PublicKey> keys_;
  std::vector<uint8_t> has_key_;
  std::vector<Sha256Digest> hashes_;
  Sha256Digest tree_hash_{};
};

// Tree hash pieces, shared with the test-vector generator.
Sha256Digest HashParentNode(const X25519PublicKey* key, const Sha256Digest& left,
                            const Sha256Digest& right);
Sha256Digest HashTreeRoot(uint32_t leaf_count, const Sha256Digest& root_hash);

}  // namespace art

#endif  // ART_TREE_PUBLIC_TREE_H_
