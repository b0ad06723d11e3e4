#include "art/tree/tree_math.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace art {
namespace {

TEST(TreeMath, SmallTreesMatchTheDraftFigures) {
  // n = 5 splits 4|1: root 7 with children 3 and leaf 4 (node 8).
  EXPECT_EQ(Root(5), 7u);
  EXPECT_EQ(Left(7), 3u);
  EXPECT_EQ(Right(7, 5), 8u);
  EXPECT_EQ(Parent(8, 5), 7u);
  // n = 7 splits 4|3: root 7, right child 11 with children 9 and leaf 6 (node 12).
  EXPECT_EQ(Right(7, 7), 11u);
  EXPECT_EQ(Right(11, 7), 12u);
  EXPECT_EQ(Parent(12, 7), 11u);
  EXPECT_EQ(Sibling(12, 7), 9u);
  EXPECT_EQ(Root(1), 0u);
  EXPECT_EQ(Root(2), 1u);
  EXPECT_EQ(Root(8), 7u);
  EXPECT_EQ(Root(9), 15u);
  EXPECT_EQ(Level(0), 0u);
  EXPECT_EQ(Level(7), 3u);
  EXPECT_EQ(DirectPath(0, 5), (std::vector<NodeIndex>{1, 3, 7}));
  EXPECT_EQ(Copath(0, 5), (std::vector<NodeIndex>{2, 5, 8}));
  EXPECT_EQ(DirectPath(8, 5), (std::vector<NodeIndex>{7}));
  EXPECT_TRUE(DirectPath(0, 1).empty());
}

// Structural invariants, checked by brute force for every size up to 300 leaves: every node other than
// the root has a parent whose children include it, paths end at the root, common ancestors contain
// both nodes and neither child of the ancestor does, and subtrees cover the right leaves.
TEST(TreeMath, InvariantsHoldForEverySize) {
  for (uint32_t n = 1; n <= 300; ++n) {
    const NodeIndex root = Root(n);
    ASSERT_LT(root, NodeWidth(n));
    ASSERT_EQ(SubtreeFirstLeaf(root), 0u);
    ASSERT_EQ(SubtreeEndLeaf(root, n), n);
    for (NodeIndex x = 0; x < NodeWidth(n); ++x) {
      if (x != root) {
        NodeIndex p = Parent(x, n);
        ASSERT_LT(p, NodeWidth(n));
        ASSERT_TRUE(Left(p) == x || Right(p, n) == x) << "n=" << n << " x=" << x;
        ASSERT_NE(Sibling(x, n), x);
        ASSERT_EQ(Parent(Sibling(x, n), n), p);
        std::vector<NodeIndex> path = DirectPath(x, n);
        ASSERT_EQ(path.back(), root);
        ASSERT_EQ(Copath(x, n).size(), path.size());
        ASSERT_LE(path.size(), 17u);
      }
      if (!IsLeaf(x)) {
        ASSERT_LT(Right(x, n), NodeWidth(n));
        ASSERT_GT(Right(x, n), x);
        ASSERT_LT(Left(x), x);
        // A parent's leaves are its left child's followed by its right child's.
        ASSERT_EQ(SubtreeFirstLeaf(Left(x)), SubtreeFirstLeaf(x));
        ASSERT_EQ(SubtreeEndLeaf(Right(x, n), n), SubtreeEndLeaf(x, n));
      }
    }
    for (LeafIndex a = 0; a < n; a += 1 + n / 40) {
      for (LeafIndex b = 0; b < n; b += 1 + n / 37) {
        NodeIndex lca = CommonAncestor(LeafToNode(a), LeafToNode(b));
        ASSERT_TRUE(InSubtree(LeafToNode(a), lca));
        ASSERT_TRUE(InSubtree(LeafToNode(b), lca));
        if (a != b) {
          ASSERT_FALSE(IsLeaf(lca));
          ASSERT_NE(InSubtree(LeafToNode(a), Left(lca)), InSubtree(LeafToNode(b), Left(lca)));
        }
      }
    }
  }
}

TEST(TreeMath, AppendingALeafChangesOnlyItsDirectPath) {
  // Growing from n to n+1 leaves: every node not on the new leaf's direct path keeps its children.
  for (uint32_t n = 1; n < 200; ++n) {
    std::vector<NodeIndex> path = DirectPath(LeafToNode(n), n + 1);
    for (NodeIndex x = 1; x < NodeWidth(n); x += 2) {
      bool on_path = std::find(path.begin(), path.end(), x) != path.end();
      if (!on_path) {
        ASSERT_EQ(Right(x, n), Right(x, n + 1)) << "n=" << n << " x=" << x;
      }
    }
  }
}

TEST(TreeMath, PathsOfNodesOutsideTheTreeAreEmpty) {
  EXPECT_TRUE(DirectPath(9, 5).empty());
  EXPECT_TRUE(Copath(0xfffffffeu, 5).empty());
  EXPECT_TRUE(DirectPath(0, kMaxLeaves + 1).empty());
}

TEST(TreeMath, LargestTree) {
  EXPECT_EQ(Root(kMaxLeaves), (1u << 16) - 1);
  EXPECT_EQ(DirectPath(0, kMaxLeaves).size(), 16u);
}

}  // namespace
}  // namespace art
