// The part of a group's public tree that one commit reads, loaded by the service from storage: the
// path leaf, its direct path and copath, and the leaves the commit names. Answers the same questions
// as PublicTree (so StagePathOn and the commit checks run unchanged) without the service ever
// holding or reading a whole tree: a commit costs O(log n) reads and writes.
#ifndef ART_TREE_PARTIAL_TREE_H_
#define ART_TREE_PARTIAL_TREE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "art/tree/tree_change.h"

namespace art {

class PartialTree {
 public:
  PartialTree(uint32_t leaf_count, const Sha256Digest& tree_hash)
      : leaf_count_(leaf_count), tree_hash_(tree_hash) {}

  // The existing nodes a path change from |start_leaf| reads in a tree of |leaf_count| leaves (before
  // the change; a start leaf of |leaf_count| appends): the start leaf, its direct path and copath.
  static std::vector<NodeIndex> NodesForPath(LeafIndex start_leaf, uint32_t leaf_count);

  // Loading. A leaf's node (key and hash) and its occupant are loaded separately.
  void AddNode(NodeIndex node, const std::optional<X25519PublicKey>& key, const Sha256Digest& hash);
  void AddLeaf(LeafIndex leaf, std::optional<LeafOccupant> occupant, LeafIndex keyed_by);
  void SetLeftmostBlankLeaf(LeafIndex leaf) { leftmost_blank_leaf_ = leaf; }
  // Records where |member_id| sits (kNoLeaf: not in the group).
  void AddMemberLookup(const std::string& member_id, LeafIndex leaf) { members_[member_id] = leaf; }

  // The same questions PublicTree answers. Asking about something not loaded is a bug in the caller:
  // the answer is "blank" and MissingNodes() reports it.
  uint32_t leaf_count() const { return leaf_count_; }
  const LeafOccupant* occupant(LeafIndex leaf) const;
  const X25519PublicKey* key(NodeIndex node) const;
  LeafIndex keyed_by(LeafIndex leaf) const;
  bool IsCopySource(NodeIndex node) const;
  LeafIndex LeftmostBlankLeaf() const;
  LeafIndex FindMember(std::string_view member_id) const;
  const Sha256Digest& tree_hash() const { return tree_hash_; }
  const Sha256Digest& node_hash(NodeIndex node) const;

  // INTERNAL naming the first node, leaf or lookup that was read but not loaded; OK otherwise.
  absl::Status MissingNodes() const;

 private:
  struct Node {
    std::optional<X25519PublicKey> key;
    Sha256Digest hash{};
  };
  struct Leaf {
    std::optional<LeafOccupant> occupant;
    LeafIndex keyed_by = kNoLeaf;
  };
  void RecordMissing(std::string what) const;

  uint32_t leaf_count_;
  Sha256Digest tree_hash_;
  std::map<NodeIndex, Node> nodes_;
  std::map<LeafIndex, Leaf> leaves_;
  std::map<std::string, LeafIndex, std::less<>> members_;
  std::optional<LeafIndex> leftmost_blank_leaf_;
  mutable std::string first_missing_;
};

}  // namespace art

#endif  // ART_TREE_PARTIAL_TREE_H_
