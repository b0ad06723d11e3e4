// Behaviour of the member side of the protocol: setup, join, update, add (Welcome), remove and
// application messages, with every member checked to agree.
#include "art/protocol/member_group.h"

#include <gtest/gtest.h>

#include "art/testing/group_fixture.h"

namespace art {
namespace {

using ::art::testing::SimulatedGroup;
using ::art::testing::TestTenant;
using ::art::testing::ValueOrDie;

std::string Text(const SecretBytes& bytes) { return std::string(bytes.data(), bytes.data() + bytes.size()); }

class MemberGroupTest : public ::testing::TestWithParam<int> {};

TEST_P(MemberGroupTest, EveryMemberAgreesAfterSetupAndEachKindOfCommit) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, GetParam()));
  EXPECT_TRUE(group->AllAgree());
  EXPECT_EQ(group->service_view().epoch(), 0u);

  const LeafIndex last = static_cast<LeafIndex>(GetParam() - 1);
  ASSERT_TRUE(group->Update(last).ok());
  EXPECT_TRUE(group->AllAgree());
  ASSERT_TRUE(group->Update(0).ok());
  EXPECT_TRUE(group->AllAgree());
  ASSERT_TRUE(group->Add(last, "newcomer").ok());  // Appends.
  EXPECT_TRUE(group->AllAgree());
  EXPECT_EQ(group->service_view().tree().leaf_count(), static_cast<uint32_t>(GetParam() + 1));
  if (GetParam() > 1) {
    ASSERT_TRUE(group->Remove(0, last).ok());
    EXPECT_TRUE(group->AllAgree());
    EXPECT_EQ(group->seats().count(last), 0u);
    ASSERT_TRUE(group->Add(0, "reuses-the-blank-leaf").ok());
    EXPECT_TRUE(group->AllAgree());
    EXPECT_EQ(group->group(last).public_group().tree().occupant(last)->member_id, "reuses-the-blank-leaf");
  }
  // The newcomer updates too, and everyone follows.
  const LeafIndex newcomer = static_cast<LeafIndex>(GetParam());
  ASSERT_TRUE(group->Update(newcomer).ok());
  EXPECT_TRUE(group->AllAgree());
}

INSTANTIATE_TEST_SUITE_P(Sizes, MemberGroupTest, ::testing::Values(1, 2, 3, 4, 5, 7, 8, 9, 33));

TEST(MemberGroup, MessagesFlowBetweenMembersInAndOutOfOrder) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 5));
  MemberGroup& alice = group->group(0);
  MemberGroup& bob = group->group(3);
  std::vector<v1::ApplicationMessage> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back(ValueOrDie(alice.Protect(1, AsBytes("message " + std::to_string(i)))));
  }
  // Delivered 4, 0, 2, 1, 3.
  for (int i : {4, 0, 2, 1, 3}) {
    ReceivedMessage received = ValueOrDie(bob.Unprotect(sent[i]));
    EXPECT_EQ(Text(received.content), "message " + std::to_string(i));
    EXPECT_EQ(received.sender_member_id, "member-0");
    EXPECT_EQ(received.sender_leaf, 0u);
  }
  // A replay is refused: its key is gone.
  EXPECT_EQ(bob.Unprotect(sent[2]).status().code(), absl::StatusCode::kInvalidArgument);
  // Another member reads them too.
  EXPECT_EQ(Text(ValueOrDie(group->group(1).Unprotect(sent[1])).content), "message 1");
}

TEST(MemberGroup, LateMessagesOfThePreviousEpochDecryptWithinTheRetentionTime) {
  TestTenant tenant;
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  tenant.mutable_config().clock = [&now] { return now; };
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 4));
  v1::ApplicationMessage late = ValueOrDie(group->group(1).Protect(1, AsBytes("late")));
  v1::ApplicationMessage later = ValueOrDie(group->group(1).Protect(1, AsBytes("later")));
  ASSERT_TRUE(group->Update(2).ok());
  EXPECT_EQ(Text(ValueOrDie(group->group(0).Unprotect(late)).content), "late");
  now += absl::Minutes(11);
  EXPECT_EQ(group->group(0).Unprotect(later).status().code(), absl::StatusCode::kNotFound);
}

TEST(MemberGroup, ExportedSecretsAgreeAndChangeWithTheEpoch) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 3));
  SecretBytes first = ValueOrDie(group->group(0).Export("media", AsBytes("call-1"), 32));
  EXPECT_EQ(first, ValueOrDie(group->group(2).Export("media", AsBytes("call-1"), 32)));
  EXPECT_NE(first, ValueOrDie(group->group(2).Export("media", AsBytes("call-2"), 32)));
  ASSERT_TRUE(group->Update(1).ok());
  EXPECT_NE(first, ValueOrDie(group->group(0).Export("media", AsBytes("call-1"), 32)));
}

TEST(MemberGroup, NewcomersAndTaintedMembersAreAskedToUpdateFirst) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 4));
  // Setup leaves were keyed by the creator.
  EXPECT_TRUE(group->group(2).ShouldUpdateBeforeSending());
  EXPECT_TRUE(group->group(0).ShouldUpdateBeforeSending());  // Its sibling leaf 1 is tainted.
  ASSERT_TRUE(group->Update(1).ok());
  EXPECT_FALSE(group->group(0).ShouldUpdateBeforeSending());
  EXPECT_FALSE(group->group(1).ShouldUpdateBeforeSending());
  ASSERT_TRUE(group->Add(0, "newcomer").ok());
  EXPECT_TRUE(group->group(4).ShouldUpdateBeforeSending());
  ASSERT_TRUE(group->Update(4).ok());
  // Its sibling subtree (leaves 0-3) still holds setup leaves 2 and 3, keyed by the creator.
  EXPECT_TRUE(group->group(4).ShouldUpdateBeforeSending());
  ASSERT_TRUE(group->Update(2).ok());
  ASSERT_TRUE(group->Update(3).ok());
  EXPECT_FALSE(group->group(4).ShouldUpdateBeforeSending());
}

TEST(MemberGroup, RemovedMemberBecomesInactiveAndItsBlankLeafKeyIsDroppedLater) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 4));
  MemberGroup removed_view = group->group(1);
  ASSERT_TRUE(group->Remove(2, 1).ok());
  // The blank leaf still holds the remover's key, tainted by the remover.
  const PublicTree& tree = group->service_view().tree();
  EXPECT_EQ(tree.occupant(1), nullptr);
  EXPECT_NE(tree.key(LeafToNode(1)), nullptr);
  EXPECT_EQ(tree.keyed_by(1), 2u);
  // Its sibling's update drops it: the parent copies leaf 0's key.
  ASSERT_TRUE(group->Update(0).ok());
  EXPECT_EQ(group->service_view().tree().key(LeafToNode(1)), nullptr);
  EXPECT_EQ(*group->service_view().tree().key(1), *group->service_view().tree().key(0));
  EXPECT_TRUE(group->AllAgree());
}

TEST(MemberGroup, StateSurvivesSerializationMidConversation) {
  TestTenant tenant;
  absl::Time now = absl::FromUnixSeconds(3'000'000);
  tenant.mutable_config().clock = [&now] { return now; };
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 6));
  // Leave skipped keys and a previous epoch behind, then store member 4 and restore it.
  std::vector<v1::ApplicationMessage> sent;
  for (int i = 0; i < 3; ++i) sent.push_back(ValueOrDie(group->group(1).Protect(1, AsBytes("m" + std::to_string(i)))));
  ASSERT_TRUE(group->group(4).Unprotect(sent[2]).ok());
  ASSERT_TRUE(group->Update(2).ok());
  const MemberIdentity& identity = group->seats().at(4).device->identity;
  SecretBytes stored = ValueOrDie(group->group(4).Serialize());
  MemberGroup restored = ValueOrDie(MemberGroup::Deserialize(tenant.config(), identity, stored.span()));
  EXPECT_EQ(restored.epoch(), group->group(4).epoch());
  EXPECT_EQ(restored.tree_hash(), group->group(4).tree_hash());
  EXPECT_EQ(restored.epoch_authenticator(), group->group(4).epoch_authenticator());
  // The skipped keys of the previous epoch still open its late messages, once.
  EXPECT_EQ(Text(ValueOrDie(restored.Unprotect(sent[0])).content), "m0");
  EXPECT_FALSE(restored.Unprotect(sent[2]).ok());
  // It follows new commits and reads new messages like the original.
  group->seats().at(4).group = restored;
  ASSERT_TRUE(group->Update(5).ok());
  EXPECT_TRUE(group->AllAgree());
  v1::ApplicationMessage later = ValueOrDie(group->group(4).Protect(1, AsBytes("after restore")));
  EXPECT_EQ(Text(ValueOrDie(group->group(0).Unprotect(later)).content), "after restore");

  // A damaged tree, a truncated state or a foreign state is refused (the AEAD the SDK wraps around a
  // stored state catches any other change).
  SecretBytes damaged = stored;
  damaged.data()[damaged.size() / 2] ^= 1;
  EXPECT_FALSE(MemberGroup::Deserialize(tenant.config(), identity, damaged.span()).ok());
  EXPECT_FALSE(MemberGroup::Deserialize(tenant.config(), identity, stored.span().subspan(0, stored.size() - 1)).ok());
  const MemberIdentity& someone_else = group->seats().at(3).device->identity;
  EXPECT_EQ(MemberGroup::Deserialize(tenant.config(), someone_else, stored.span()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MemberGroup, AnAcceptedCommitIsRecoveredFromItsKeptPathSecret) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 7));
  // Member 3 makes a commit of each kind; the service accepts it, but member 3 "crashes" before it
  // applies it, keeping only its state from before and the commit with its path secret.
  for (int kind = 0; kind < 3; ++kind) {
    const MemberGroup before = group->group(3);
    PendingCommit pending = kind == 0   ? ValueOrDie(before.CreateUpdate())
                            : kind == 1 ? ValueOrDie(before.CreateRemove(5))
                                        : ValueOrDie(before.CreateAdd(tenant.NewMember("n" + std::to_string(kind))->TakeBundle()));
    const v1::Commit commit = pending.commit;
    const SecretBytes kept = pending.path_leaf_secret;
    ASSERT_TRUE(group->Deliver(3, std::move(pending)).ok());
    MemberGroup restarted = before;
    // The wrong secret is refused and changes nothing; the right one recovers.
    SecretBytes wrong = kept;
    wrong.data()[1] ^= 1;  // (Not byte 0: clamping ignores its low bits.)
    EXPECT_FALSE(restarted.RecoverOwnCommit(commit, wrong.span()).ok());
    EXPECT_EQ(restarted.epoch(), before.epoch());
    ASSERT_TRUE(restarted.RecoverOwnCommit(commit, kept.span()).ok());
    EXPECT_EQ(restarted.epoch_authenticator(), group->group(0).epoch_authenticator());
    EXPECT_EQ(restarted.tree_hash(), group->service_view().tree_hash());
    group->seats().at(3).group = restarted;
    // Another member cannot use it to process someone else's commit.
    EXPECT_FALSE(group->group(0).RecoverOwnCommit(commit, kept.span()).ok());
  }
  EXPECT_TRUE(group->AllAgree());
}

}  // namespace
}  // namespace art
