// Every input the spec says must be rejected, each checked to fail with the right status and to leave
// the receiving state exactly as it was (the next valid input is still accepted).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "art/crypto/hash.h"
#include "art/protocol/encodings.h"
#include "art/protocol/member_group.h"
#include "art/suite/labeled.h"
#include "art/testing/group_fixture.h"
#include "art/wire/fields.h"

namespace art {
namespace {

using ::art::testing::SimulatedGroup;
using ::art::testing::TestMember;
using ::art::testing::TestTenant;
using ::art::testing::ValueOrDie;
using ::testing::HasSubstr;

// A snapshot of what must not change when an input is rejected.
struct Snapshot {
  uint64_t epoch;
  Sha256Digest tree_hash;
  Sha256Digest interim;
  std::string authenticator;

  static Snapshot Of(const MemberGroup& group) {
    const SecretBytes& a = group.epoch_authenticator();
    return {group.epoch(), group.tree_hash(), group.public_group().interim_transcript_hash(),
            std::string(a.data(), a.data() + a.size())};
  }
  static Snapshot Of(const PublicGroup& group) {
    return {group.epoch(), group.tree_hash(), group.interim_transcript_hash(), ""};
  }
  bool operator==(const Snapshot& other) const {
    return epoch == other.epoch && tree_hash == other.tree_hash && interim == other.interim &&
           authenticator == other.authenticator;
  }
};

// A small-order X25519 point (order 8) and a non-canonical encoding (u = 2^255 - 1).
std::string SmallOrderPoint() {
  Bytes point;
  FromHex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", &point);
  return std::string(point.begin(), point.end());
}
std::string NonCanonicalPoint() { return std::string(31, '\xff') + '\x7f'; }

// Re-signs |commit| as the member at its signer leaf would, after a test altered it, so that the
// check under test (not the signature) is what rejects it.
void Resign(v1::Commit& commit, const PublicGroup& group, const Ed25519PrivateKey& signer) {
  commit.set_signature(ToField(ValueOrDie(SignWithLabel(
      signer, "commit",
      EncodeCommitContent(group.tenant_id(), commit, group.tree_hash(), group.interim_transcript_hash())))));
}

// Recomputes the tree hash a Setup states and re-signs it as its creator, after a test altered it.
void ResignSetup(v1::Setup& setup, const std::string& tenant_id, const Ed25519PrivateKey& creator) {
  std::vector<LeafOccupant> occupants;
  for (const v1::SetupMember& member : setup.members()) {
    occupants.push_back(LeafOccupant{member.credential().member_id(), {}, CredentialHash(member.credential())});
  }
  std::vector<X25519PublicKey> keys;
  for (const std::string& key : setup.node_public_keys()) {
    keys.push_back(ValueOrDie(FixedBytes<kX25519KeySize>(key, "key")));
  }
  std::vector<LeafIndex> keyed_by(occupants.size(), 0);
  keyed_by[0] = kNoLeaf;
  PublicTree tree = ValueOrDie(PublicTree::Create(occupants, keys, keyed_by));
  setup.set_tree_hash(ToField(tree.tree_hash()));
  setup.set_signature(ToField(ValueOrDie(SignWithLabel(creator, "setup", EncodeSetupContent(tenant_id, setup)))));
}

class SetupRejections : public ::testing::Test {
 protected:
  void SetUp() override {
    creator_ = tenant_.NewMember("creator");
    for (int i = 0; i < 4; ++i) members_.push_back(tenant_.NewMember("member-" + std::to_string(i)));
    std::vector<v1::PrekeyBundle> bundles;
    for (auto& member : members_) bundles.push_back(member->TakeBundle());
    setup_ = ValueOrDie(MemberGroup::Create(tenant_.config(), creator_->identity, "group", bundles)).setup;
  }

  // Member 1 (leaf 2) tries to join from |setup|: the result, and that its one-time prekey survived.
  absl::Status Join(const v1::Setup& setup) {
    const size_t prekeys_before = members_[1]->prekeys.one_time_prekeys.size();
    absl::Status status =
        MemberGroup::JoinFromSetup(tenant_.config(), members_[1]->identity, &members_[1]->prekeys, setup)
            .status();
    if (!status.ok()) {
      EXPECT_EQ(members_[1]->prekeys.one_time_prekeys.size(), prekeys_before);
    }
    return status;
  }

  TestTenant tenant_;
  std::unique_ptr<TestMember> creator_;
  std::vector<std::unique_ptr<TestMember>> members_;
  v1::Setup setup_;
};

TEST_F(SetupRejections, ValidSetupIsAccepted) { EXPECT_TRUE(Join(setup_).ok()); }

TEST_F(SetupRejections, InvalidCredentialSignature) {
  v1::Setup setup = setup_;
  std::string& signature = *setup.mutable_members(3)->mutable_credential()->mutable_tenant_signature();
  signature[5] ^= 1;
  ResignSetup(setup, tenant_.config().tenant_id, creator_->identity.signing_key);
  absl::Status status = Join(setup);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(status.message()), HasSubstr("tenant_signature"));
}

TEST_F(SetupRejections, CredentialFromAnotherTenant) {
  TestTenant other("tenant-b");
  auto stranger = other.NewMember("stranger");
  v1::Setup setup = setup_;
  *setup.mutable_members(4)->mutable_credential() = stranger->identity.credential;
  ResignSetup(setup, tenant_.config().tenant_id, creator_->identity.signing_key);
  EXPECT_EQ(Join(setup).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SetupRejections, InvalidSetupSignature) {
  v1::Setup setup = setup_;
  (*setup.mutable_signature())[0] ^= 1;
  EXPECT_EQ(Join(setup).code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(SetupRejections, OwnIdentityMissing) {
  v1::Setup setup = setup_;
  auto other = tenant_.NewMember("someone-else");
  *setup.mutable_members(2)->mutable_credential() = other->identity.credential;
  ResignSetup(setup, tenant_.config().tenant_id, creator_->identity.signing_key);
  absl::Status status = Join(setup);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("is not in the group"));
}

TEST_F(SetupRejections, OwnIdentityDuplicated) {
  v1::Setup setup = setup_;
  *setup.mutable_members(3) = setup.members(2);
  ResignSetup(setup, tenant_.config().tenant_id, creator_->identity.signing_key);
  absl::Status status = Join(setup);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("twice"));
}

TEST_F(SetupRejections, CountsDisagree) {
  v1::Setup setup = setup_;
  setup.mutable_node_public_keys()->RemoveLast();
  absl::Status status = Join(setup);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("node_public_keys"));
}

TEST_F(SetupRejections, PrekeyNotTheMembersOwn) {
  v1::Setup setup = setup_;
  setup.mutable_members(2)->set_signed_prekey_id(77);
  ResignSetup(setup, tenant_.config().tenant_id, creator_->identity.signing_key);
  EXPECT_EQ(Join(setup).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SetupRejections, OneTimePrekeyAlreadyConsumed) {
  ASSERT_TRUE(Join(setup_).ok());
  absl::Status again = Join(setup_);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr("already consumed"));
}

TEST_F(SetupRejections, WrongKeyLength) {
  v1::Setup setup = setup_;
  setup.mutable_node_public_keys(3)->pop_back();
  EXPECT_EQ(Join(setup).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SetupRejections, SmallOrderAndNonCanonicalPoints) {
  for (const std::string& point : {SmallOrderPoint(), NonCanonicalPoint()}) {
    v1::Setup setup = setup_;
    *setup.mutable_node_public_keys(6) = point;
    absl::Status status = Join(setup);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr("node_public_keys[6]"));
  }
}

TEST_F(SetupRejections, OwnLeafKeyMismatch) {
  v1::Setup setup = setup_;
  // A creator that announces a different key for member 1's leaf (node 4) than the agreement gives.
  auto other_key = ValueOrDie(X25519PrivateKey::Generate());
  *setup.mutable_node_public_keys(4) = ToField(other_key.public_key());
  ResignSetup(setup, tenant_.config().tenant_id, creator_->identity.signing_key);
  absl::Status status = Join(setup);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("own leaf key"));
}

TEST_F(SetupRejections, PathKeyMismatch) {
  v1::Setup setup = setup_;
  auto other_key = ValueOrDie(X25519PrivateKey::Generate());
  *setup.mutable_node_public_keys(5) = ToField(other_key.public_key());  // Leaf 2's parent.
  ResignSetup(setup, tenant_.config().tenant_id, creator_->identity.signing_key);
  absl::Status status = Join(setup);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("path key at node 5"));
}

TEST_F(SetupRejections, TreeHashMismatch) {
  v1::Setup setup = setup_;
  (*setup.mutable_tree_hash())[0] ^= 1;
  setup.set_signature(ToField(ValueOrDie(SignWithLabel(creator_->identity.signing_key, "setup",
                                                       EncodeSetupContent(tenant_.config().tenant_id, setup)))));
  absl::Status status = Join(setup);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("tree_hash"));
}

TEST_F(SetupRejections, ConfirmationTagMismatch) {
  v1::Setup setup = setup_;
  (*setup.mutable_confirmation_tag())[0] ^= 1;
  EXPECT_EQ(Join(setup).code(), absl::StatusCode::kPermissionDenied);
}

// Commits: each altered commit is refused by the service's checks and by a member, and neither
// changes; then the original commit is accepted by both.
class CommitRejections : public ::testing::Test {
 protected:
  void SetUp() override {
    group_ = ValueOrDie(SimulatedGroup::Create(tenant_, 6));
    pending_ = ValueOrDie(group_->group(2).CreateUpdate());
  }

  const Ed25519PrivateKey& KeyOf(LeafIndex leaf) { return group_->seats().at(leaf).device->identity.signing_key; }

  // Expects |commit| refused with |code| by the service view and by member 4.
  void ExpectRejected(const v1::Commit& commit, absl::StatusCode code, const std::string& message_part) {
    const Snapshot service_before = Snapshot::Of(group_->service_view());
    const Snapshot member_before = Snapshot::Of(group_->group(4));
    absl::StatusOr<StagedPublicCommit> staged =
        group_->service_view().StageCommit(commit, tenant_.config().trusted_tenant_keys);
    absl::Status processed = group_->group(4).ProcessCommit(commit);
    if (code == absl::StatusCode::kPermissionDenied && message_part == "confirmation tag") {
      // Only members can check the tag: the service accepts what its public checks allow.
      EXPECT_TRUE(staged.ok());
    } else {
      EXPECT_EQ(staged.status().code(), code) << staged.status();
      EXPECT_THAT(std::string(staged.status().message()), HasSubstr(message_part));
    }
    EXPECT_EQ(processed.code(), code) << processed;
    EXPECT_THAT(std::string(processed.message()), HasSubstr(message_part));
    EXPECT_TRUE(Snapshot::Of(group_->service_view()) == service_before);
    EXPECT_TRUE(Snapshot::Of(group_->group(4)) == member_before);
  }

  void TearDown() override {
    // The state is unchanged: the genuine commit still goes through and everyone agrees.
    ASSERT_TRUE(group_->Deliver(2, std::move(pending_)).ok());
    EXPECT_TRUE(group_->AllAgree());
  }

  TestTenant tenant_;
  std::unique_ptr<SimulatedGroup> group_;
  PendingCommit pending_;
};

TEST_F(CommitRejections, InvalidSignature) {
  v1::Commit commit = pending_.commit;
  (*commit.mutable_signature())[10] ^= 1;
  ExpectRejected(commit, absl::StatusCode::kPermissionDenied, "signature");
}

TEST_F(CommitRejections, SignerNotAtTheClaimedLeaf) {
  v1::Commit commit = pending_.commit;
  commit.set_signer_leaf(3);
  ExpectRejected(commit, absl::StatusCode::kPermissionDenied, "leaf 3");
}

TEST_F(CommitRejections, SignerIndexOutOfRange) {
  v1::Commit commit = pending_.commit;
  commit.set_signer_leaf(999);
  ExpectRejected(commit, absl::StatusCode::kInvalidArgument, "signer_leaf 999");
}

TEST_F(CommitRejections, PathLengthWrongForTheLeaf) {
  v1::Commit commit = pending_.commit;
  commit.mutable_update()->mutable_path()->mutable_public_keys()->RemoveLast();
  Resign(commit, group_->service_view(), KeyOf(2));
  ExpectRejected(commit, absl::StatusCode::kInvalidArgument, "keys, got");
}

TEST_F(CommitRejections, WrongKeyLength) {
  v1::Commit commit = pending_.commit;
  commit.mutable_update()->mutable_path()->mutable_public_keys(1)->append("x");
  Resign(commit, group_->service_view(), KeyOf(2));
  ExpectRejected(commit, absl::StatusCode::kInvalidArgument, "must be 32 bytes");
}

TEST_F(CommitRejections, SmallOrderPoint) {
  v1::Commit commit = pending_.commit;
  *commit.mutable_update()->mutable_path()->mutable_public_keys(2) = SmallOrderPoint();
  Resign(commit, group_->service_view(), KeyOf(2));
  ExpectRejected(commit, absl::StatusCode::kInvalidArgument, "commit.update.path[2]");
}

TEST_F(CommitRejections, NonCanonicalPoint) {
  v1::Commit commit = pending_.commit;
  *commit.mutable_update()->mutable_path()->mutable_public_keys(0) = NonCanonicalPoint();
  Resign(commit, group_->service_view(), KeyOf(2));
  ExpectRejected(commit, absl::StatusCode::kInvalidArgument, "commit.update.path[0]");
}

TEST_F(CommitRejections, TreeHashMismatch) {
  v1::Commit commit = pending_.commit;
  (*commit.mutable_new_tree_hash())[3] ^= 1;
  Resign(commit, group_->service_view(), KeyOf(2));
  ExpectRejected(commit, absl::StatusCode::kInvalidArgument, "new_tree_hash");
}

TEST_F(CommitRejections, StaleEpoch) {
  v1::Commit commit = pending_.commit;
  commit.set_epoch(commit.epoch() + 1);
  Resign(commit, group_->service_view(), KeyOf(2));
  ExpectRejected(commit, absl::StatusCode::kFailedPrecondition, "current epoch 0");
}

TEST_F(CommitRejections, ConfirmationTagMismatch) {
  v1::Commit commit = pending_.commit;
  (*commit.mutable_confirmation_tag())[0] ^= 1;
  ExpectRejected(commit, absl::StatusCode::kPermissionDenied, "confirmation tag");
}

TEST_F(CommitRejections, PathKeyAMemberRecomputesDiffers) {
  // A validly signed commit whose root key is not what the path derives: the service cannot tell,
  // a member can.
  v1::Commit commit = pending_.commit;
  const int root_index = commit.update().path().public_keys_size() - 1;
  *commit.mutable_update()->mutable_path()->mutable_public_keys(root_index) =
      ToField(ValueOrDie(X25519PrivateKey::Generate()).public_key());
  // Recompute the tree hash the signer would claim for this path.
  std::vector<X25519PublicKey> keys;
  for (const std::string& key : commit.update().path().public_keys()) {
    keys.push_back(ValueOrDie(FixedBytes<kX25519KeySize>(key, "key")));
  }
  const PublicTree& tree = group_->service_view().tree();
  TreeChange change = ValueOrDie(tree.StagePath(2, keys, *tree.occupant(2), kNoLeaf));
  commit.set_new_tree_hash(ToField(change.tree_hash));
  Resign(commit, group_->service_view(), KeyOf(2));
  EXPECT_TRUE(group_->service_view().StageCommit(commit, tenant_.config().trusted_tenant_keys).ok());
  const Snapshot before = Snapshot::Of(group_->group(4));
  absl::Status status = group_->group(4).ProcessCommit(commit);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("does not match the key this member derives"));
  EXPECT_TRUE(Snapshot::Of(group_->group(4)) == before);
}

TEST_F(CommitRejections, RemoveNamingTheWrongCredential) {
  PendingCommit remove = ValueOrDie(group_->group(1).CreateRemove(3));
  v1::Commit commit = remove.commit;
  *commit.mutable_remove()->mutable_removed_credential_hash() = ToField(group_->service_view().tree().occupant(4)->credential_hash);
  Resign(commit, group_->service_view(), KeyOf(1));
  ExpectRejected(commit, absl::StatusCode::kInvalidArgument, "removed_credential_hash");
}

TEST_F(CommitRejections, RemovingOneself) {
  PendingCommit remove = ValueOrDie(group_->group(1).CreateRemove(3));
  v1::Commit commit = remove.commit;
  commit.set_signer_leaf(3);
  Resign(commit, group_->service_view(), KeyOf(3));
  ExpectRejected(commit, absl::StatusCode::kInvalidArgument, "removing oneself");
  EXPECT_EQ(group_->group(3).CreateRemove(3).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CommitRejections, AddOfAnExistingMember) {
  v1::PrekeyBundle bundle = group_->seats().at(5).device->TakeBundle();
  EXPECT_EQ(group_->group(1).CreateAdd(bundle).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(CommitReplay, AReplayedCommitIsRefused) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 4));
  PendingCommit pending = ValueOrDie(group->group(1).CreateUpdate());
  const v1::Commit commit = pending.commit;
  ASSERT_TRUE(group->Deliver(1, std::move(pending)).ok());
  const Snapshot before = Snapshot::Of(group->group(3));
  absl::Status replay = group->group(3).ProcessCommit(commit);
  EXPECT_EQ(replay.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(group->service_view().StageCommit(commit, tenant.config().trusted_tenant_keys).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Snapshot::Of(group->group(3)) == before);
}

TEST(CommitOwnLeaf, ACommitSignedForOwnLeafThatThisMemberDidNotMakeRaisesTheAlarm) {
  TestTenant tenant;
  auto group = ValueOrDie(SimulatedGroup::Create(tenant, 3));
  PendingCommit pending = ValueOrDie(group->group(1).CreateUpdate());
  const Snapshot before = Snapshot::Of(group->group(1));
  absl::Status status = group->group(1).ProcessCommit(pending.commit);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("compromised"));
  EXPECT_TRUE(Snapshot::Of(group->group(1)) == before);
}

// Welcome: a newcomer refuses a Welcome whose header or tree was altered, keeping its prekeys.
class WelcomeRejections : public ::testing::Test {
 protected:
  void SetUp() override {
    group_ = ValueOrDie(SimulatedGroup::Create(tenant_, 5));
    newcomer_ = tenant_.NewMember("newcomer");
    PendingCommit pending = ValueOrDie(group_->group(0).CreateAdd(newcomer_->TakeBundle()));
    commit_ = pending.commit;
    welcome_ = *pending.welcome;
    ASSERT_TRUE(group_->Deliver(0, std::move(pending)).ok());
    state_ = tenant_.PublicStateOf(group_->service_view());
  }

  absl::Status Join(const v1::Welcome& welcome, const v1::Commit& commit, const v1::PublicGroupState& state) {
    const size_t before = newcomer_->prekeys.one_time_prekeys.size();
    absl::Status status = MemberGroup::JoinFromWelcome(tenant_.config(), newcomer_->identity,
                                                       &newcomer_->prekeys, welcome, commit, state)
                              .status();
    if (!status.ok()) {
      EXPECT_EQ(newcomer_->prekeys.one_time_prekeys.size(), before);
    }
    return status;
  }

  void TearDown() override {
    MemberGroup joined = ValueOrDie(MemberGroup::JoinFromWelcome(tenant_.config(), newcomer_->identity,
                                                                 &newcomer_->prekeys, welcome_, commit_, state_));
    EXPECT_EQ(joined.epoch_authenticator(), group_->group(0).epoch_authenticator());
  }

  TestTenant tenant_;
  std::unique_ptr<SimulatedGroup> group_;
  std::unique_ptr<TestMember> newcomer_;
  v1::Commit commit_;
  v1::Welcome welcome_;
  v1::PublicGroupState state_;
};

TEST_F(WelcomeRejections, HeaderFieldAltered) {
  v1::Welcome welcome = welcome_;
  (*welcome.mutable_commit_hash())[0] ^= 1;
  EXPECT_EQ(Join(welcome, commit_, state_).code(), absl::StatusCode::kPermissionDenied);
  welcome = welcome_;
  welcome.set_epoch(welcome.epoch() + 1);
  EXPECT_EQ(Join(welcome, commit_, state_).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(WelcomeRejections, CiphertextAltered) {
  v1::Welcome welcome = welcome_;
  (*welcome.mutable_ciphertext())[3] ^= 1;
  EXPECT_EQ(Join(welcome, commit_, state_).code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(WelcomeRejections, TreeAltered) {
  v1::PublicGroupState state = state_;
  *state.mutable_parent_public_keys(1) = ToField(ValueOrDie(X25519PrivateKey::Generate()).public_key());
  EXPECT_EQ(Join(welcome_, commit_, state).code(), absl::StatusCode::kInvalidArgument);
  // A consistent state of another epoch (the group after a further update) is not the one the
  // commit produced either.
  PublicGroup later = group_->service_view();
  later.Apply(ValueOrDie(group_->group(1).CreateUpdate()).transition.public_commit);
  EXPECT_EQ(Join(welcome_, commit_, tenant_.PublicStateOf(later)).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(WelcomeRejections, CommitAltered) {
  v1::Commit commit = commit_;
  (*commit.mutable_signature())[0] ^= 1;
  EXPECT_FALSE(Join(welcome_, commit, state_).ok());
  commit = commit_;
  (*commit.mutable_confirmation_tag())[0] ^= 1;
  EXPECT_FALSE(Join(welcome_, commit, state_).ok());
}

// Application messages.
class MessageRejections : public ::testing::Test {
 protected:
  void SetUp() override {
    group_ = ValueOrDie(SimulatedGroup::Create(tenant_, 4));
    message_ = ValueOrDie(group_->group(1).Protect(7, AsBytes("hello")));
  }
  void ExpectRejected(const v1::ApplicationMessage& message, absl::StatusCode code) {
    absl::StatusOr<ReceivedMessage> received = group_->group(2).Unprotect(message);
    EXPECT_EQ(received.status().code(), code) << received.status();
  }
  void TearDown() override {
    // Nothing was consumed: the genuine message still decrypts.
    ReceivedMessage received = ValueOrDie(group_->group(2).Unprotect(message_));
    EXPECT_EQ(std::string(received.content.data(), received.content.data() + received.content.size()), "hello");
  }
  TestTenant tenant_;
  std::unique_ptr<SimulatedGroup> group_;
  v1::ApplicationMessage message_;
};

TEST_F(MessageRejections, AeadFailure) {
  v1::ApplicationMessage message = message_;
  (*message.mutable_ciphertext())[0] ^= 1;
  ExpectRejected(message, absl::StatusCode::kPermissionDenied);
  message = message_;
  message.set_content_type(8);  // Authenticated as additional data.
  ExpectRejected(message, absl::StatusCode::kPermissionDenied);
  message = message_;
  (*message.mutable_reuse_guard())[0] ^= 1;
  ExpectRejected(message, absl::StatusCode::kPermissionDenied);
}

TEST_F(MessageRejections, UnknownEpoch) {
  v1::ApplicationMessage message = message_;
  message.set_epoch(5);
  ExpectRejected(message, absl::StatusCode::kNotFound);
}

TEST_F(MessageRejections, GenerationBeyondTheSkipWindow) {
  v1::ApplicationMessage message = message_;
  message.set_generation(kMaxSkippedKeys + 1);
  ExpectRejected(message, absl::StatusCode::kInvalidArgument);
  message.set_generation(UINT32_MAX);
  ExpectRejected(message, absl::StatusCode::kInvalidArgument);
}

TEST(MessageSignature, BadSenderSignatureIsRefused) {
  // The member "signer" runs with a signing key that is not the one its credential names: its
  // messages decrypt (it holds the group's keys) but carry a signature its credential does not vouch
  // for.
  TestTenant tenant;
  auto creator = tenant.NewMember("creator");
  auto victim = tenant.NewMember("victim");
  auto signer = tenant.NewMember("signer");
  MemberIdentity forged_signer{ValueOrDie(Ed25519PrivateKey::Generate()), signer->identity.dh_key,
                               signer->identity.credential};
  std::vector<v1::PrekeyBundle> bundles = {victim->TakeBundle(), signer->TakeBundle()};
  auto created = ValueOrDie(MemberGroup::Create(tenant.config(), creator->identity, "group", bundles));
  MemberGroup victim_group = ValueOrDie(
      MemberGroup::JoinFromSetup(tenant.config(), victim->identity, &victim->prekeys, created.setup));
  MemberGroup signer_group = ValueOrDie(
      MemberGroup::JoinFromSetup(tenant.config(), forged_signer, &signer->prekeys, created.setup));
  v1::ApplicationMessage forged = ValueOrDie(signer_group.Protect(1, AsBytes("forged")));
  absl::StatusOr<ReceivedMessage> received = victim_group.Unprotect(forged);
  EXPECT_EQ(received.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(received.status().message()), HasSubstr("signature"));
  // Nothing consumed: a genuine message from the creator at the same epoch still decrypts.
  v1::ApplicationMessage genuine = ValueOrDie(created.group.Protect(1, AsBytes("genuine")));
  EXPECT_TRUE(victim_group.Unprotect(genuine).ok());
}

}  // namespace
}  // namespace art
