// The security properties of the spec, demonstrated against a concrete attacker: one who holds a
// set of stolen or retained X25519 secrets, sees every public message and tries every one-step
// derivation (each secret's own public key, and the parent key it forms with every public key in the
// tree). Holding a node's secret would show up as producing that node's public key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "art/protocol/member_group.h"
#include "art/protocol/path_derivation.h"
#include "art/testing/group_fixture.h"
#include "art/wire/fields.h"

namespace art {
namespace {

using ::art::testing::SimulatedGroup;
using ::art::testing::TestTenant;
using ::art::testing::ValueOrDie;

// What an attacker holds: secrets (as key pairs).
using Loot = std::vector<X25519PrivateKey>;

void AddKeys(Loot& loot, const MemberGroup& state) {
  for (const auto& [node, key] : state.path_keys_for_testing()) loot.push_back(key);
}

std::vector<X25519PublicKey> TreeKeys(const PublicTree& tree) {
  std::vector<X25519PublicKey> keys;
  for (NodeIndex node = 0; node < NodeWidth(tree.leaf_count()); ++node) {
    if (const X25519PublicKey* key = tree.key(node)) keys.push_back(*key);
  }
  return keys;
}

// The nodes of |tree| whose secret the attacker can produce from |loot| by repeated derivation: a
// secret whose public key is a node's key, and every parent key formed with any public key in the
// tree, again and again until nothing new appears.
std::set<NodeIndex> CompromisedNodes(const Loot& loot, const PublicTree& tree) {
  const std::vector<X25519PublicKey> tree_keys = TreeKeys(tree);
  auto node_with_key = [&](const X25519PublicKey& key) -> std::optional<NodeIndex> {
    for (NodeIndex node = 0; node < NodeWidth(tree.leaf_count()); ++node) {
      if (tree.key(node) != nullptr && *tree.key(node) == key) return node;
    }
    return std::nullopt;
  };
  std::set<NodeIndex> compromised;
  std::vector<X25519PrivateKey> frontier;
  for (const X25519PrivateKey& secret : loot) {
    if (auto node = node_with_key(secret.public_key()); node && compromised.insert(*node).second) {
      frontier.push_back(secret);
    }
  }
  while (!frontier.empty()) {
    const X25519PrivateKey secret = frontier.back();
    frontier.pop_back();
    for (const X25519PublicKey& other : tree_keys) {
      absl::StatusOr<X25519PrivateKey> derived = DeriveParentKey(secret, other);
      if (!derived.ok()) continue;
      if (auto node = node_with_key(derived->public_key()); node && compromised.insert(*node).second) {
        frontier.push_back(*derived);
      }
    }
  }
  return compromised;
}

bool RootCompromised(const Loot& loot, const PublicTree& tree) {
  return CompromisedNodes(loot, tree).count(Root(tree.leaf_count())) > 0;
}

TEST(Security, TheAttackerModelFindsWhatItHolds) {
  // The attacker check is meaningful: a current member's own keys compromise its path and the root.
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 8));
  Loot loot;
  AddKeys(loot, group->group(5));
  EXPECT_TRUE(RootCompromised(loot, group->service_view().tree()));
  EXPECT_EQ(CompromisedNodes(loot, group->service_view().tree()).size(), 4u);  // Leaf 5 and 3 parents.
}

TEST(Security, PostCompromiseSecurityAfterTheVictimsOwnUpdate) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 8));
  const MemberGroup stolen = group->group(3);  // The victim's full state at epoch 0.
  Loot loot;
  AddKeys(loot, stolen);
  ASSERT_TRUE(RootCompromised(loot, group->service_view().tree()));
  PendingCommit update = ValueOrDie(group->group(3).CreateUpdate());
  const v1::Commit commit = update.commit;
  ASSERT_TRUE(group->Deliver(3, std::move(update)).ok());
  // The new epoch is out of reach: no node on the victim's new path, nor the root.
  EXPECT_TRUE(CompromisedNodes(loot, group->service_view().tree()).empty());
  // The stolen state cannot follow the commit either.
  MemberGroup clone = stolen;
  EXPECT_FALSE(clone.ProcessCommit(commit).ok());
  // And cannot read the new epoch's messages.
  v1::ApplicationMessage message = ValueOrDie(group->group(6).Protect(1, AsBytes("after healing")));
  EXPECT_EQ(clone.Unprotect(message).status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(clone.epoch_authenticator(), group->group(6).epoch_authenticator());
}

TEST(Security, ForwardSecrecyStateAtTheNextEpochCannotReadThePreviousOne) {
  TestTenant tenant;
  absl::Time now = absl::FromUnixSeconds(2'000'000);
  tenant.mutable_config().clock = [&now] { return now; };
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 5));
  ASSERT_TRUE(group->Update(2).ok());  // Epoch 1: the secrets under test are not setup-time ones.
  v1::ApplicationMessage old_message = ValueOrDie(group->group(1).Protect(1, AsBytes("epoch 1")));
  const MemberGroup before_state = group->group(4);
  ASSERT_TRUE(group->Update(4).ok());  // Epoch 2, by the member whose state is captured next.
  now += absl::Minutes(10) + absl::Seconds(1);
  group->group(4).ExpirePreviousEpoch();
  MemberGroup captured = group->group(4);  // Captured at epoch 2, after the retention time.
  EXPECT_EQ(captured.Unprotect(old_message).status().code(), absl::StatusCode::kNotFound);
  const EpochSecrets& before = before_state.secrets_for_testing();
  const EpochSecrets& after = captured.secrets_for_testing();
  EXPECT_NE(before.init_secret, after.init_secret);
  EXPECT_NE(before.exporter_secret, after.exporter_secret);
  // Its keys reach no node of the epoch-1 tree: that epoch's root and tree key are out of reach,
  // and the init secret that fed epoch 2 was erased.
  Loot loot;
  AddKeys(loot, captured);
  EXPECT_TRUE(CompromisedNodes(loot, before_state.public_group().tree()).empty());
}

TEST(Security, ForwardSecrecyOfTheTreeIsBoundedByTheMembersOwnLeafUpdates) {
  // ART's known limit, recorded so that it cannot change unnoticed: a member that has not updated
  // its leaf still holds the leaf secret that, with public keys, gave earlier epochs' roots. (The key
  // schedule still erased those epochs' message keys, as the previous test shows; updating bounds
  // the window, which is why the SDK updates on a schedule.)
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 5));
  const PublicTree epoch0_tree = group->service_view().tree();
  ASSERT_TRUE(group->Update(2).ok());
  Loot loot;
  AddKeys(loot, group->group(4));  // Leaf 4 never updated.
  EXPECT_TRUE(CompromisedNodes(loot, epoch0_tree).count(Root(5)));
}

TEST(Security, ARemovedMemberDerivesNoLaterEpoch) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 8));
  MemberGroup removed_copy = group->group(5);  // Kept by the removed member before processing.
  Loot loot;
  AddKeys(loot, removed_copy);
  ASSERT_TRUE(group->Update(5).ok());  // Its own leaf is clean (not keyed by anyone else).
  removed_copy = group->group(5);
  loot.clear();
  AddKeys(loot, removed_copy);
  PendingCommit remove = ValueOrDie(group->group(0).CreateRemove(5));
  const v1::Commit commit = remove.commit;
  ASSERT_TRUE(group->Deliver(0, std::move(remove)).ok());
  EXPECT_FALSE(RootCompromised(loot, group->service_view().tree()));
  EXPECT_TRUE(CompromisedNodes(loot, group->service_view().tree()).empty());
  // Processing its own removal leaves it inactive, with nothing left.
  ASSERT_TRUE(removed_copy.ProcessCommit(commit).ok());
  EXPECT_FALSE(removed_copy.is_active());
  EXPECT_TRUE(removed_copy.path_keys_for_testing().empty());
  v1::ApplicationMessage message = ValueOrDie(group->group(2).Protect(1, AsBytes("secret")));
  EXPECT_EQ(removed_copy.Unprotect(message).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Security, TheRemoversFreshLeafSecretGivesNothingOnceTheSiblingSubtreeUpdated) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 8));
  const X25519PrivateKey fresh = ValueOrDie(X25519PrivateKey::Generate());
  ASSERT_TRUE(group->Deliver(0, ValueOrDie(group->group(0).CreateRemoveWithKeyForTesting(5, fresh))).ok());
  Loot loot = {fresh};
  // Until then the remover's key reaches the root: the removal is not complete.
  EXPECT_TRUE(RootCompromised(loot, group->service_view().tree()));
  EXPECT_EQ(group->service_view().tree().keyed_by(5), 0u);
  // The remover erased it: its own state holds no key for the removed leaf.
  for (const auto& [node, key] : group->group(0).path_keys_for_testing()) {
    EXPECT_NE(key.public_key(), fresh.public_key());
  }
  ASSERT_TRUE(group->Update(4).ok());  // Leaf 4 is the blank leaf's sibling.
  EXPECT_TRUE(CompromisedNodes(loot, group->service_view().tree()).empty());
  EXPECT_EQ(group->service_view().tree().key(LeafToNode(5)), nullptr);
}

TEST(Security, TheCreatorKeepsNoOtherMembersLeafSecret) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 16));
  const MemberGroup& creator = group->group(0);
  // Only its own leaf and its direct path.
  std::vector<NodeIndex> expected = {0};
  for (NodeIndex node : DirectPath(0, 16)) expected.push_back(node);
  std::vector<NodeIndex> held;
  for (const auto& [node, key] : creator.path_keys_for_testing()) held.push_back(node);
  EXPECT_EQ(held, expected);
  for (LeafIndex leaf = 1; leaf < 16; ++leaf) {
    const X25519PrivateKey& member_leaf = group->group(leaf).path_keys_for_testing().front().second;
    for (const auto& [node, key] : creator.path_keys_for_testing()) {
      EXPECT_NE(key.secret(), member_leaf.secret());
    }
  }
}

TEST(Security, DoubleJoinAfterEveryMemberUpdatedTheCreatorsSetupTimeKnowledgeGivesNothing) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 8));
  // Everything a creator could have known at setup, had it kept it: every leaf and node secret.
  Loot setup_time;
  for (auto& [leaf, seat] : group->seats()) AddKeys(setup_time, seat.group);
  ASSERT_TRUE(RootCompromised(setup_time, group->service_view().tree()));
  for (LeafIndex leaf = 1; leaf < 8; ++leaf) {
    // Until the last setup leaf updates, something remains tainted, and reachable.
    EXPECT_TRUE(group->service_view().tree().SubtreeHasTaint(Root(8)));
    EXPECT_TRUE(RootCompromised(setup_time, group->service_view().tree()));
    ASSERT_TRUE(group->Update(leaf).ok());
  }
  EXPECT_FALSE(group->service_view().tree().SubtreeHasTaint(Root(8)));
  ASSERT_TRUE(group->Update(0).ok());  // The creator too.
  EXPECT_TRUE(CompromisedNodes(setup_time, group->service_view().tree()).empty());
}

TEST(Security, AServiceSubstitutingAnIdentityIsCaughtByCredentialChecks) {
  TestTenant tenant;
  TestTenant impostor_tenant(tenant.config().tenant_id);  // Same tenant id, a key clients do not trust.
  auto creator = tenant.NewMember("creator");
  auto bob = tenant.NewMember("bob");
  auto fake_bob = impostor_tenant.NewMember("bob");
  std::vector<v1::PrekeyBundle> bundles = {fake_bob->TakeBundle()};
  absl::StatusOr<MemberGroup::Created> created =
      MemberGroup::Create(tenant.config(), creator->identity, "group", bundles);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kPermissionDenied);
  // A bundle whose prekey was swapped for the service's own is refused too.
  v1::PrekeyBundle swapped = bob->TakeBundle();
  swapped.mutable_signed_prekey()->set_public_key(
      ToField(ValueOrDie(X25519PrivateKey::Generate()).public_key()));
  created = MemberGroup::Create(tenant.config(), creator->identity, "group", {swapped});
  EXPECT_EQ(created.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace art
