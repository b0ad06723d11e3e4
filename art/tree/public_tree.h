// The public ratchet tree of a group, held whole in memory (as members hold it): who sits at each
// leaf, every node's X25519 public key, who else knows each leaf's secret (taint), and an
// incrementally maintained Merkle tree hash.
//
// Changes are staged: StagePath() validates a path change and computes its effect (O(log n) keys and
// hashes) without touching the tree; Apply() then installs it and cannot fail. A rejected change
// therefore leaves the tree exactly as it was, and no operation copies or rehashes the whole tree.
// The service, which never holds a whole tree, stages the same change on a PartialTree.
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
#include "art/encoding/encoder.h"
#include "art/tree/tree_change.h"
#include "art/tree/tree_math.h"

namespace art {

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

  // See StagePathOn (tree_change.h). Does not modify the tree.
  absl::StatusOr<TreeChange> StagePath(LeafIndex start_leaf,
                                       absl::Span<const X25519PublicKey> path_keys,
                                       std::optional<LeafOccupant> occupant,
                                       LeafIndex start_keyed_by) const {
    return StagePathOn(*this, start_leaf, path_keys, std::move(occupant), start_keyed_by);
  }

  // Installs a change staged on this exact tree.
  void Apply(TreeChange change);

  // Appends the tree (occupants, taint, node keys and the tree hash) to |encoder|, for a member's
  // stored state. DecodeFrom reads it back, recomputes every hash and checks the tree hash.
  void EncodeTo(Encoder& encoder) const;
  static absl::StatusOr<PublicTree> DecodeFrom(Decoder& decoder);

  // A whole tree never lacks a node (see PartialTree::missing_node).
  absl::Status MissingNodes() const { return absl::OkStatus(); }

  // Approximate heap bytes held, for the state-size benchmark.
  size_t MemoryUsage() const;

 private:
  void RecomputeAllHashes();

  uint32_t leaf_count_ = 0;
  std::vector<std::optional<LeafOccupant>> occupants_;
  std::vector<LeafIndex> keyed_by_;
  std::vector<X25519PublicKey> keys_;
  std::vector<uint8_t> has_key_;
  std::vector<Sha256Digest> hashes_;
  Sha256Digest tree_hash_{};
};

}  // namespace art

#endif  // ART_TREE_PUBLIC_TREE_H_
