#include "art/tree/partial_tree.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace art {

std::vector<NodeIndex> PartialTree::NodesForPath(LeafIndex start_leaf, uint32_t leaf_count) {
  const uint32_t leaf_count_after = std::max(leaf_count, start_leaf + 1);
  const NodeIndex start = LeafToNode(start_leaf);
  std::vector<NodeIndex> nodes = {start};
  for (NodeIndex node : DirectPath(start, leaf_count_after)) nodes.push_back(node);
  for (NodeIndex node : Copath(start, leaf_count_after)) nodes.push_back(node);
  // Nodes an append creates do not exist yet.
  nodes.erase(std::remove_if(nodes.begin(), nodes.end(),
                             [&](NodeIndex node) { return node >= NodeWidth(leaf_count); }),
              nodes.end());
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

void PartialTree::AddNode(NodeIndex node, const std::optional<X25519PublicKey>& key,
                          const Sha256Digest& hash) {
  nodes_[node] = Node{key, hash};
}

void PartialTree::AddLeaf(LeafIndex leaf, std::optional<LeafOccupant> occupant, LeafIndex keyed_by) {
  leaves_[leaf] = Leaf{std::move(occupant), keyed_by};
}

void PartialTree::RecordMissing(std::string what) const {
  if (first_missing_.empty()) first_missing_ = std::move(what);
}

const LeafOccupant* PartialTree::occupant(LeafIndex leaf) const {
  if (leaf >= leaf_count_) return nullptr;
  auto found = leaves_.find(leaf);
  if (found == leaves_.end()) {
    RecordMissing(absl::StrCat("leaf ", leaf));
    return nullptr;
  }
  return found->second.occupant.has_value() ? &*found->second.occupant : nullptr;
}

LeafIndex PartialTree::keyed_by(LeafIndex leaf) const {
  auto found = leaves_.find(leaf);
  if (found == leaves_.end()) {
    RecordMissing(absl::StrCat("leaf ", leaf));
    return kNoLeaf;
  }
  return found->second.keyed_by;
}

const X25519PublicKey* PartialTree::key(NodeIndex node) const {
  if (node >= NodeWidth(leaf_count_)) return nullptr;
  auto found = nodes_.find(node);
  if (found == nodes_.end()) {
    RecordMissing(absl::StrCat("node ", node));
    return nullptr;
  }
  return found->second.key.has_value() ? &*found->second.key : nullptr;
}

const Sha256Digest& PartialTree::node_hash(NodeIndex node) const {
  static const Sha256Digest kNone{};
  auto found = nodes_.find(node);
  if (found == nodes_.end()) {
    RecordMissing(absl::StrCat("node ", node));
    return kNone;
  }
  return found->second.hash;
}

bool PartialTree::IsCopySource(NodeIndex node) const {
  if (IsLeaf(node)) return occupant(NodeToLeaf(node)) == nullptr;
  return key(node) == nullptr;
}

LeafIndex PartialTree::LeftmostBlankLeaf() const {
  if (!leftmost_blank_leaf_.has_value()) {
    RecordMissing("the leftmost blank leaf");
    return kNoLeaf;
  }
  return *leftmost_blank_leaf_;
}

LeafIndex PartialTree::FindMember(std::string_view member_id) const {
  auto found = members_.find(member_id);
  if (found == members_.end()) {
    RecordMissing(absl::StrCat("the leaf of member \"", std::string(member_id), "\""));
    return kNoLeaf;
  }
  return found->second;
}

absl::Status PartialTree::MissingNodes() const {
  if (first_missing_.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("a commit check read ", first_missing_,
                                          ", which was not loaded from storage"));
}

}  // namespace art
