// The service checks commits on a PartialTree holding only what PartialTree::NodesForPath and the
// named leaves load. These tests check that this gives exactly the verdict and the change the whole
// tree gives, for every kind of commit, and that reading anything not loaded is reported.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "art/protocol/member_group.h"
#include "art/testing/group_fixture.h"
#include "art/tree/partial_tree.h"
#include "art/wire/fields.h"

namespace art {
namespace {

using ::art::testing::SimulatedGroup;
using ::art::testing::TestTenant;
using ::art::testing::ValueOrDie;

// Loads what a commit by |signer| along a path from |path_leaf| reads, from a whole tree.
PartialTree LoadFor(const PublicTree& tree, LeafIndex signer, LeafIndex path_leaf,
                    const std::string& added_member = "", LeafIndex extra_leaf = kNoLeaf) {
  PartialTree partial(tree.leaf_count(), tree.tree_hash());
  for (NodeIndex node : PartialTree::NodesForPath(path_leaf, tree.leaf_count())) {
    const X25519PublicKey* key = tree.key(node);
    partial.AddNode(node, key ? std::optional<X25519PublicKey>(*key) : std::nullopt, tree.node_hash(node));
  }
  std::vector<LeafIndex> leaves = {signer};
  for (NodeIndex node : PartialTree::NodesForPath(path_leaf, tree.leaf_count())) {
    if (IsLeaf(node)) leaves.push_back(NodeToLeaf(node));
  }
  if (extra_leaf != kNoLeaf) leaves.push_back(extra_leaf);
  for (LeafIndex leaf : leaves) {
    const LeafOccupant* occupant = tree.occupant(leaf);
    partial.AddLeaf(leaf, occupant ? std::optional<LeafOccupant>(*occupant) : std::nullopt, tree.keyed_by(leaf));
  }
  partial.SetLeftmostBlankLeaf(tree.LeftmostBlankLeaf());
  if (!added_member.empty()) partial.AddMemberLookup(added_member, tree.FindMember(added_member));
  return partial;
}

void ExpectSameVerdict(const SimulatedGroup& group, const v1::Commit& commit, const PartialTree& partial,
                       const TestTenant& tenant) {
  const PublicGroup& whole = group.service_view();
  absl::StatusOr<StagedPublicCommit> expected = whole.StageCommit(commit, tenant.config().trusted_tenant_keys);
  absl::StatusOr<StagedPublicCommit> actual =
      StageCommitOn(whole.header(), partial, commit, tenant.config().trusted_tenant_keys);
  ASSERT_EQ(actual.status().code(), expected.status().code()) << actual.status() << " vs " << expected.status();
  if (!expected.ok()) return;
  EXPECT_EQ(actual->tree_change.tree_hash, expected->tree_change.tree_hash);
  EXPECT_EQ(actual->tree_change.keys, expected->tree_change.keys);
  EXPECT_EQ(actual->tree_change.hashes, expected->tree_change.hashes);
  EXPECT_EQ(actual->tree_change.dropped_leaf, expected->tree_change.dropped_leaf);
  EXPECT_EQ(actual->interim_transcript_hash, expected->interim_transcript_hash);
}

TEST(PartialTree, GivesTheWholeTreesVerdictForEveryKindOfCommit) {
  TestTenant tenant;
  for (int n : {1, 2, 3, 5, 7, 8, 13}) {
    SCOPED_TRACE(n);
    auto group = ValueOrDie(SimulatedGroup::Create(tenant, n, "group-" + std::to_string(n)));
    const LeafIndex last = static_cast<LeafIndex>(n - 1);
    // Update.
    PendingCommit update = ValueOrDie(group->group(last).CreateUpdate());
    ExpectSameVerdict(*group, update.commit, LoadFor(group->service_view().tree(), last, last), tenant);
    ASSERT_TRUE(group->Deliver(last, std::move(update)).ok());
    // Add (append).
    auto newcomer = tenant.NewMember("new-" + std::to_string(n));
    PendingCommit add = ValueOrDie(group->group(0).CreateAdd(newcomer->TakeBundle()));
    const LeafIndex new_leaf = add.commit.add().new_leaf();
    ExpectSameVerdict(*group, add.commit,
                      LoadFor(group->service_view().tree(), 0, new_leaf, newcomer->member_id()), tenant);
    ASSERT_TRUE(group->Deliver(0, std::move(add), std::move(newcomer)).ok());
    if (n < 3) continue;
    // Remove, then an update by the blank leaf's sibling (the copy rule drops its key), then an add
    // into the blank leaf.
    PendingCommit remove = ValueOrDie(group->group(0).CreateRemove(2));
    ExpectSameVerdict(*group, remove.commit, LoadFor(group->service_view().tree(), 0, 2), tenant);
    ASSERT_TRUE(group->Deliver(0, std::move(remove)).ok());
    PendingCommit sibling_update = ValueOrDie(group->group(3).CreateUpdate());
    ExpectSameVerdict(*group, sibling_update.commit, LoadFor(group->service_view().tree(), 3, 3), tenant);
    ASSERT_TRUE(group->Deliver(3, std::move(sibling_update)).ok());
    auto another = tenant.NewMember("another-" + std::to_string(n));
    PendingCommit refill = ValueOrDie(group->group(1).CreateAdd(another->TakeBundle()));
    EXPECT_EQ(refill.commit.add().new_leaf(), 2u);
    ExpectSameVerdict(*group, refill.commit,
                      LoadFor(group->service_view().tree(), 1, 2, another->member_id()), tenant);
    // A rejected commit too: a tampered tree hash, re-signed or not, fails the same way.
    v1::Commit tampered = refill.commit;
    (*tampered.mutable_new_tree_hash())[0] ^= 1;
    ExpectSameVerdict(*group, tampered, LoadFor(group->service_view().tree(), 1, 2, another->member_id()), tenant);
  }
}

TEST(PartialTree, ReadingWhatWasNotLoadedIsAnInternalError) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 8));
  PendingCommit update = ValueOrDie(group->group(5).CreateUpdate());
  // Loaded for a path from leaf 1, not 5.
  PartialTree wrong = LoadFor(group->service_view().tree(), 5, 1);
  absl::StatusOr<StagedPublicCommit> staged = StageCommitOn(
      group->service_view().header(), wrong, update.commit, tenant.config().trusted_tenant_keys);
  EXPECT_EQ(staged.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(staged.status().message()), ::testing::HasSubstr("not loaded"));
}

TEST(PartialTree, NodesForPathIsLogarithmic) {
  for (uint32_t n : {1u, 2u, 1000u, 65536u}) {
    for (LeafIndex leaf : {0u, n / 2, n - 1, n}) {
      if (leaf > n || leaf >= kMaxLeaves) continue;
      std::vector<NodeIndex> nodes = PartialTree::NodesForPath(leaf, n);
      EXPECT_LE(nodes.size(), 2u * 17u);
      for (NodeIndex node : nodes) EXPECT_LT(node, NodeWidth(n));
    }
  }
}

}  // namespace
}  // namespace art
