// Index arithmetic of a left-balanced binary tree stored as an array (draft-ietf-mls-protocol-11,
// Appendix C). Leaf i is node 2i; parents are odd; a tree of n leaves is 2n-1 nodes wide. A tree whose
// leaf count is not a power of two is the left part of the next full tree: n = 5 splits 4|1 and
// n = 7 splits 4|3. All functions are pure, O(log n) at most, and never allocate except the path
// functions, which return at most 17 entries (n <= 2^16).
#ifndef ART_TREE_TREE_MATH_H_
#define ART_TREE_TREE_MATH_H_

#include <cstdint>
#include <vector>

namespace art {

using NodeIndex = uint32_t;
using LeafIndex = uint32_t;

inline constexpr uint32_t kMaxLeaves = 1u << 16;

inline NodeIndex LeafToNode(LeafIndex leaf) { return 2 * leaf; }
inline LeafIndex NodeToLeaf(NodeIndex node) { return node / 2; }
inline bool IsLeaf(NodeIndex node) { return (node & 1) == 0; }

// Number of nodes of a tree with |leaf_count| >= 1 leaves: 2n - 1.
inline uint32_t NodeWidth(uint32_t leaf_count) { return 2 * leaf_count - 1; }

// The level of a node: 0 for leaves, k for a node whose index ends in k one-bits followed by a zero.
uint32_t Level(NodeIndex node);

// The root of a tree with |leaf_count| leaves.
NodeIndex Root(uint32_t leaf_count);

// Children of a parent node (|node| must not be a leaf). Right() stays inside the tree's width.
NodeIndex Left(NodeIndex node);
NodeIndex Right(NodeIndex node, uint32_t leaf_count);

// Parent and sibling of a node that is in the tree and not the root (callers check indices that come
// from the network first; DirectPath and Copath return empty for a node outside the tree).
NodeIndex Parent(NodeIndex node, uint32_t leaf_count);
NodeIndex Sibling(NodeIndex node, uint32_t leaf_count);

// The nodes from |node|'s parent up to the root, in that order (empty for the root, and for a node
// outside a tree of 1..2^16 leaves).
std::vector<NodeIndex> DirectPath(NodeIndex node, uint32_t leaf_count);

// The siblings of |node| and of each node of its direct path below the root, bottom up.
std::vector<NodeIndex> Copath(NodeIndex node, uint32_t leaf_count);

// The lowest node whose subtree holds both |a| and |b|.
NodeIndex CommonAncestor(NodeIndex a, NodeIndex b);

// True if |descendant| lies in the subtree rooted at |ancestor| (a node is in its own subtree).
bool InSubtree(NodeIndex descendant, NodeIndex ancestor);

// The first and one-past-last leaf of the subtree at |node|, clipped to the tree's leaf count.
LeafIndex SubtreeFirstLeaf(NodeIndex node);
LeafIndex SubtreeEndLeaf(NodeIndex node, uint32_t leaf_count);

}  // namespace art

#endif  // ART_TREE_TREE_MATH_H_
