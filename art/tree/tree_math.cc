#include "art/tree/tree_math.h"

namespace art {
namespace {

// The level of the root of the smallest full tree holding |leaf_count| leaves.
uint32_t RootLevel(uint32_t leaf_count) {
  uint32_t level = 0;
  while ((1u << level) < leaf_count) ++level;
  return level;
}

// The parent in the infinite full tree, ignoring the width.
NodeIndex ParentStep(NodeIndex node) {
  uint32_t level = Level(node);
  NodeIndex bit = 1u << level;
  NodeIndex direction = (node >> (level + 1)) & 1;
  return (node | bit) ^ (direction << (level + 1));
}

}  // namespace

uint32_t Level(NodeIndex node) {
  uint32_t level = 0;
  while ((node >> level) & 1) ++level;
  return level;
}

NodeIndex Root(uint32_t leaf_count) { return (1u << RootLevel(leaf_count)) - 1; }

NodeIndex Left(NodeIndex node) {
  uint32_t level = Level(node);
  return node ^ (1u << (level - 1));
}

NodeIndex Right(NodeIndex node, uint32_t leaf_count) {
  uint32_t level = Level(node);
  NodeIndex right = node ^ (3u << (level - 1));
  while (right >= NodeWidth(leaf_count)) right = Left(right);
  return right;
}

NodeIndex Parent(NodeIndex node, uint32_t leaf_count) {
  NodeIndex parent = ParentStep(node);
  while (parent >= NodeWidth(leaf_count)) parent = ParentStep(parent);
  return parent;
}

NodeIndex Sibling(NodeIndex node, uint32_t leaf_count) {
  NodeIndex parent = Parent(node, leaf_count);
  return node < parent ? Right(parent, leaf_count) : Left(parent);
}

std::vector<NodeIndex> DirectPath(NodeIndex node, uint32_t leaf_count) {
  std::vector<NodeIndex> path;
  // Out of the tree (an unchecked index from the network): no path, rather than a walk that never
  // reaches the root.
  if (leaf_count == 0 || leaf_count > kMaxLeaves || node >= NodeWidth(leaf_count)) return path;
  NodeIndex root = Root(leaf_count);
  while (node != root) {
    node = Parent(node, leaf_count);
    path.push_back(node);
  }
  return path;
}

std::vector<NodeIndex> Copath(NodeIndex node, uint32_t leaf_count) {
  std::vector<NodeIndex> copath;
  if (leaf_count == 0 || leaf_count > kMaxLeaves || node >= NodeWidth(leaf_count)) return copath;
  NodeIndex root = Root(leaf_count);
  while (node != root) {
    copath.push_back(Sibling(node, leaf_count));
    node = Parent(node, leaf_count);
  }
  return copath;
}

NodeIndex CommonAncestor(NodeIndex a, NodeIndex b) {
  if (InSubtree(a, b)) return b;
  if (InSubtree(b, a)) return a;
  // Strip low bits until the prefixes agree; the ancestor is the common prefix followed by 0111...
  uint32_t shift = 0;
  while (a != b) {
    a >>= 1;
    b >>= 1;
    ++shift;
  }
  if (shift == 0) return a;
  return (a << shift) | ((1u << (shift - 1)) - 1);
}

bool InSubtree(NodeIndex descendant, NodeIndex ancestor) {
  uint32_t level = Level(ancestor);
  NodeIndex half_width = (1u << level) - 1;
  return descendant + half_width >= ancestor && descendant <= ancestor + half_width;
}

LeafIndex SubtreeFirstLeaf(NodeIndex node) {
  uint32_t level = Level(node);
  return (node - ((1u << level) - 1)) / 2;
}

LeafIndex SubtreeEndLeaf(NodeIndex node, uint32_t leaf_count) {
  uint32_t level = Level(node);
  LeafIndex end = (node + (1u << level) + 1) / 2;
  return end < leaf_count ? end : leaf_count;
}

}  // namespace art
