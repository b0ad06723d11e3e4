// The service through its real gRPC API, in process: every RPC, its error statuses, tenant isolation,
// one-time prekeys under concurrent fetches, and concurrent commits to one group.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grpc/health/v1/health.grpc.pb.h"

#include <set>
#include <thread>

#include "art/protocol/member_group.h"
#include "art/wire/fields.h"
#include "tests/service/service_harness.h"

namespace artd::testing {
namespace {

using art::testing::TestMember;
using art::testing::ValueOrDie;
using ::testing::HasSubstr;

#define EXPECT_GRPC(call, code) EXPECT_EQ((call).error_code(), grpc::StatusCode::code)

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_ = std::make_unique<ServiceHarness>();
    tenant_ = harness_->NewTenant("tenant-a");
  }

  // Fetches and processes every commit after |group|'s epoch.
  void CatchUp(const TenantClient& tenant, art::MemberGroup& group) {
    v1::ListCommitsRequest request;
    request.set_group_id(std::string(group.public_group().group_id().begin(), group.public_group().group_id().end()));
    request.set_after_epoch(group.epoch());
    v1::ListCommitsResponse response;
    grpc::Status status = tenant.groups->ListCommits(tenant.Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const v1::Commit& commit : response.commits()) ASSERT_TRUE(group.ProcessCommit(commit).ok());
    // Never behind the commits listed; ahead of them when a commit landed after they were read.
    EXPECT_LE(group.epoch(), response.current_epoch());
  }

  std::unique_ptr<ServiceHarness> harness_;
  std::unique_ptr<TenantClient> tenant_;
};

TEST_F(ServiceTest, HealthCheckAnswers) {
  auto health = grpc::health::v1::Health::NewStub(harness_->channel());
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(ServiceTest, CallsWithoutAValidApiKeyAreUnauthenticated) {
  v1::CountPrekeysRequest request;
  request.set_member_id("anyone");
  v1::CountPrekeysResponse response;
  grpc::ClientContext no_key;
  EXPECT_GRPC(tenant_->keys->CountPrekeys(&no_key, request, &response), UNAUTHENTICATED);
  grpc::ClientContext wrong_key;
  wrong_key.AddMetadata("authorization", "Bearer artd_0000_nope");
  EXPECT_GRPC(tenant_->keys->CountPrekeys(&wrong_key, request, &response), UNAUTHENTICATED);
  EXPECT_TRUE(tenant_->keys->CountPrekeys(tenant_->Context().get(), request, &response).ok());
}

TEST(ServiceKeys, ARevokedApiKeyIsRefusedOnceTheCacheExpires) {
  ServiceConfig config;
  config.api_key_cache_millis = 0;  // Every call looks its key up.
  ServiceHarness harness(config);
  auto tenant = harness.NewTenant("tenant-a");
  v1::CountPrekeysRequest request;
  request.set_member_id("anyone");
  v1::CountPrekeysResponse response;
  ASSERT_TRUE(tenant->keys->CountPrekeys(tenant->Context().get(), request, &response).ok());
  ASSERT_TRUE(harness.store().RevokeApiKey(tenant->api_key_id).ok());
  EXPECT_GRPC(tenant->keys->CountPrekeys(tenant->Context().get(), request, &response), UNAUTHENTICATED);
}

TEST_F(ServiceTest, PublishingAnIdentityNeedsTheMembersSignatureAndRefusesReplays) {
  std::unique_ptr<TestMember> alice = tenant_->authority->NewMember("alice");
  std::unique_ptr<TestMember> mallory = tenant_->authority->NewMember("mallory");
  v1::PublishIdentityRequest request;
  *request.mutable_credential() = alice->identity.credential;
  v1::PublishIdentityResponse response;
  // Signed by someone else: refused.
  *request.mutable_auth() = tenant_->Sign(*mallory, art::kPublishIdentityMethod, art::RequestDigest(request));
  grpc::Status status = tenant_->keys->PublishIdentity(tenant_->Context().get(), request, &response);
  EXPECT_GRPC(status, PERMISSION_DENIED);
  *request.mutable_auth() = tenant_->Sign(*alice, art::kPublishIdentityMethod, art::RequestDigest(request));
  ASSERT_TRUE(tenant_->keys->PublishIdentity(tenant_->Context().get(), request, &response).ok());
  // The same request again is a replay.
  status = tenant_->keys->PublishIdentity(tenant_->Context().get(), request, &response);
  EXPECT_GRPC(status, PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("replayed"));
  // A credential not certified by a key the tenant registered is refused.
  art::testing::TestTenant impostor("tenant-a");
  std::unique_ptr<TestMember> forged = impostor.NewMember("forged");
  *request.mutable_credential() = forged->identity.credential;
  *request.mutable_auth() = tenant_->Sign(*forged, art::kPublishIdentityMethod, art::RequestDigest(request));
  EXPECT_GRPC(tenant_->keys->PublishIdentity(tenant_->Context().get(), request, &response), PERMISSION_DENIED);
}

TEST_F(ServiceTest, BundlesHandOutEachOneTimePrekeyOnceThenFallBackToTheSignedPrekey) {
  std::unique_ptr<TestMember> bob = tenant_->NewMember("bob", 3);
  std::set<uint32_t> seen;
  for (int i = 0; i < 3; ++i) {
    v1::PrekeyBundle bundle = FetchBundle(*tenant_, "bob");
    ASSERT_TRUE(bundle.has_one_time_prekey());
    EXPECT_TRUE(seen.insert(bundle.one_time_prekey().prekey_id()).second);
  }
  v1::PrekeyBundle fallback = FetchBundle(*tenant_, "bob");
  EXPECT_FALSE(fallback.has_one_time_prekey());
  EXPECT_TRUE(fallback.has_signed_prekey());
  v1::CountPrekeysRequest count;
  count.set_member_id("bob");
  v1::CountPrekeysResponse counted;
  ASSERT_TRUE(tenant_->keys->CountPrekeys(tenant_->Context().get(), count, &counted).ok());
  EXPECT_EQ(counted.one_time_prekeys_remaining(), 0u);
  v1::FetchPrekeyBundleRequest unknown;
  unknown.set_member_id("nobody");
  v1::FetchPrekeyBundleResponse none;
  EXPECT_GRPC(tenant_->keys->FetchPrekeyBundle(tenant_->Context().get(), unknown, &none), NOT_FOUND);
}

TEST_F(ServiceTest, ConcurrentBundleFetchesNeverHandOutAOneTimePrekeyTwice) {
  std::unique_ptr<TestMember> bob = tenant_->NewMember("bob", 200);
  std::mutex mutex;
  std::vector<uint32_t> handed_out;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 30; ++i) {
        v1::PrekeyBundle bundle = FetchBundle(*tenant_, "bob");
        if (bundle.has_one_time_prekey()) {
          std::lock_guard<std::mutex> lock(mutex);
          handed_out.push_back(bundle.one_time_prekey().prekey_id());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(handed_out.size(), 200u);
  EXPECT_EQ(std::set<uint32_t>(handed_out.begin(), handed_out.end()).size(), 200u);
}

TEST_F(ServiceTest, AGroupRunsThroughTheServiceAndMembersAgree) {
  auto alice = tenant_->NewMember("alice");
  auto bob = tenant_->NewMember("bob");
  auto carol = tenant_->NewMember("carol");
  art::MemberGroup alice_group = CreateGroup(*tenant_, *alice, {bob.get(), carol.get()}, "team");
  art::MemberGroup bob_group = Join(*tenant_, *bob, "team");
  art::MemberGroup carol_group = Join(*tenant_, *carol, "team");
  EXPECT_EQ(bob_group.epoch_authenticator(), alice_group.epoch_authenticator());

  // Bob updates.
  art::PendingCommit update = ValueOrDie(bob_group.CreateUpdate());
  v1::SubmitCommitResponse submitted;
  ASSERT_TRUE(Submit(*tenant_, *bob, update, &submitted).ok());
  EXPECT_EQ(submitted.epoch(), 1u);
  bob_group.ApplyPendingCommit(std::move(update));
  CatchUp(*tenant_, alice_group);
  CatchUp(*tenant_, carol_group);
  EXPECT_EQ(alice_group.epoch_authenticator(), bob_group.epoch_authenticator());
  EXPECT_EQ(carol_group.epoch_authenticator(), bob_group.epoch_authenticator());

  // A commit for a stale epoch loses: ABORTED with the current epoch.
  art::PendingCommit stale = ValueOrDie(carol_group.CreateUpdate());
  ASSERT_TRUE(Submit(*tenant_, *carol, stale, &submitted).ok());
  carol_group.ApplyPendingCommit(std::move(stale));
  art::PendingCommit late = ValueOrDie(alice_group.CreateUpdate());
  grpc::Status lost = Submit(*tenant_, *alice, late, &submitted);
  EXPECT_GRPC(lost, ABORTED);
  EXPECT_THAT(lost.error_message(), HasSubstr("current epoch 2"));
  CatchUp(*tenant_, alice_group);
  CatchUp(*tenant_, bob_group);

  // Alice adds Dave; Dave joins from his Welcome and acknowledges it.
  auto dave = tenant_->NewMember("dave");
  art::PendingCommit add = ValueOrDie(alice_group.CreateAdd(FetchBundle(*tenant_, "dave")));
  ASSERT_TRUE(Submit(*tenant_, *alice, add, &submitted).ok());
  alice_group.ApplyPendingCommit(std::move(add));
  v1::FetchWelcomesRequest fetch;
  fetch.set_member_id("dave");
  *fetch.mutable_auth() = tenant_->Sign(*dave, art::kFetchWelcomesMethod, art::RequestDigest(fetch));
  v1::FetchWelcomesResponse welcomes;
  ASSERT_TRUE(tenant_->mailbox->FetchWelcomes(tenant_->Context().get(), fetch, &welcomes).ok());
  ASSERT_EQ(welcomes.welcomes_size(), 1);
  const v1::PendingWelcome& pending = welcomes.welcomes(0);
  art::MemberGroup dave_group = ValueOrDie(art::MemberGroup::JoinFromWelcome(
      tenant_->authority->config(), dave->identity, &dave->prekeys, pending.welcome(), pending.commit(),
      pending.state_after()));
  EXPECT_EQ(dave_group.epoch_authenticator(), alice_group.epoch_authenticator());
  v1::AckWelcomeRequest ack;
  ack.set_member_id("dave");
  ack.set_welcome_id(pending.welcome_id());
  *ack.mutable_auth() = tenant_->Sign(*dave, art::kAckWelcomeMethod, art::RequestDigest(ack));
  v1::AckWelcomeResponse acked;
  ASSERT_TRUE(tenant_->mailbox->AckWelcome(tenant_->Context().get(), ack, &acked).ok());
  *fetch.mutable_auth() = tenant_->Sign(*dave, art::kFetchWelcomesMethod, art::RequestDigest(fetch));
  ASSERT_TRUE(tenant_->mailbox->FetchWelcomes(tenant_->Context().get(), fetch, &welcomes).ok());
  EXPECT_EQ(welcomes.welcomes_size(), 0);

  // Carol removes Bob; messages flow; Bob cannot read them.
  CatchUp(*tenant_, bob_group);
  CatchUp(*tenant_, carol_group);
  art::PendingCommit remove = ValueOrDie(carol_group.CreateRemove(bob_group.own_leaf()));
  ASSERT_TRUE(Submit(*tenant_, *carol, remove, &submitted).ok());
  carol_group.ApplyPendingCommit(std::move(remove));
  CatchUp(*tenant_, alice_group);
  CatchUp(*tenant_, dave_group);
  CatchUp(*tenant_, bob_group);
  EXPECT_FALSE(bob_group.is_active());

  v1::PostMessageRequest post;
  *post.mutable_message() = ValueOrDie(dave_group.Protect(1, art::AsBytes("hello team")));
  *post.mutable_auth() = tenant_->Sign(*dave, art::kPostMessageMethod, art::RequestDigest(post));
  v1::PostMessageResponse posted;
  ASSERT_TRUE(tenant_->mailbox->PostMessage(tenant_->Context().get(), post, &posted).ok());
  v1::FetchMessagesRequest read;
  read.set_group_id("team");
  v1::FetchMessagesResponse messages;
  ASSERT_TRUE(tenant_->mailbox->FetchMessages(tenant_->Context().get(), read, &messages).ok());
  ASSERT_EQ(messages.messages_size(), 1);
  EXPECT_EQ(messages.messages(0).sequence(), posted.sequence());
  art::ReceivedMessage received = ValueOrDie(alice_group.Unprotect(messages.messages(0).message()));
  EXPECT_EQ(std::string(received.content.data(), received.content.data() + received.content.size()), "hello team");
  EXPECT_FALSE(bob_group.Unprotect(messages.messages(0).message()).ok());
  EXPECT_EQ(alice_group.epoch(), 4u);

  // The full public state matches what members hold; the member view holds just one path.
  v1::GetGroupRequest get;
  get.set_group_id("team");
  v1::GetGroupResponse full;
  ASSERT_TRUE(tenant_->groups->GetGroup(tenant_->Context().get(), get, &full).ok());
  art::PublicGroup loaded = ValueOrDie(art::PublicGroup::FromProto(full.state(), "tenant-a", {}));
  EXPECT_EQ(loaded.tree_hash(), alice_group.tree_hash());
  get.set_member_leaf(alice_group.own_leaf());
  v1::GetGroupResponse path_only;
  ASSERT_TRUE(tenant_->groups->GetGroup(tenant_->Context().get(), get, &path_only).ok());
  EXPECT_EQ(path_only.state().leaves_size(), 0);
  const art::PublicTree& tree = alice_group.public_group().tree();
  EXPECT_EQ(static_cast<size_t>(path_only.path_nodes_size()),
            1 + 2 * art::DirectPath(art::LeafToNode(alice_group.own_leaf()), tree.leaf_count()).size());
  for (const v1::TreeNodeKey& node : path_only.path_nodes()) {
    const art::X25519PublicKey* key = tree.key(node.node());
    EXPECT_EQ(node.public_key(), key ? art::ToField(*key) : std::string()) << "node " << node.node();
  }
  get.set_member_leaf(99);
  EXPECT_GRPC(tenant_->groups->GetGroup(tenant_->Context().get(), get, &path_only), INVALID_ARGUMENT);
}

TEST_F(ServiceTest, ConcurrentCommitsToOneGroupHaveOneWinnerPerEpoch) {
  constexpr int kMembers = 6;
  std::vector<std::unique_ptr<TestMember>> members;
  for (int i = 0; i < kMembers; ++i) members.push_back(tenant_->NewMember("m" + std::to_string(i)));
  std::vector<const TestMember*> others;
  for (int i = 1; i < kMembers; ++i) others.push_back(members[i].get());
  std::vector<art::MemberGroup> groups;
  groups.push_back(CreateGroup(*tenant_, *members[0], others, "busy"));
  for (int i = 1; i < kMembers; ++i) groups.push_back(Join(*tenant_, *members[i], "busy"));

  // Every member commits an update for the same epoch at once: exactly one wins; the others are
  // told the current epoch, catch up and retry, until all have committed.
  std::vector<int> wins(kMembers, 0);
  std::vector<int> aborted(kMembers, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kMembers; ++i) {
    threads.emplace_back([&, i] {
      while (true) {
        art::PendingCommit pending = ValueOrDie(groups[i].CreateUpdate());
        v1::SubmitCommitResponse response;
        grpc::Status status = Submit(*tenant_, *members[i], pending, &response);
        if (status.ok()) {
          groups[i].ApplyPendingCommit(std::move(pending));
          ++wins[i];
          return;
        }
        ASSERT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << status.error_message();
        ++aborted[i];
        CatchUp(*tenant_, groups[i]);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kMembers; ++i) {
    EXPECT_EQ(wins[i], 1);
    CatchUp(*tenant_, groups[i]);
    EXPECT_EQ(groups[i].epoch(), static_cast<uint64_t>(kMembers));
    EXPECT_EQ(groups[i].epoch_authenticator(), groups[0].epoch_authenticator());
  }
}

TEST_F(ServiceTest, WatchingAGroupStreamsNewCommitsAndMessages) {
  auto alice = tenant_->NewMember("alice");
  auto bob = tenant_->NewMember("bob");
  art::MemberGroup alice_group = CreateGroup(*tenant_, *alice, {bob.get()}, "watched");
  art::MemberGroup bob_group = Join(*tenant_, *bob, "watched");

  std::unique_ptr<grpc::ClientContext> context = tenant_->Context();
  v1::WatchGroupRequest request;
  request.set_group_id("watched");
  std::unique_ptr<grpc::ClientReader<v1::GroupEvent>> reader = tenant_->groups->WatchGroup(context.get(), request);

  art::PendingCommit update = ValueOrDie(bob_group.CreateUpdate());
  v1::SubmitCommitResponse submitted;
  ASSERT_TRUE(Submit(*tenant_, *bob, update, &submitted).ok());
  bob_group.ApplyPendingCommit(std::move(update));
  v1::PostMessageRequest post;
  *post.mutable_message() = ValueOrDie(bob_group.Protect(1, art::AsBytes("watch this")));
  *post.mutable_auth() = tenant_->Sign(*bob, art::kPostMessageMethod, art::RequestDigest(post));
  v1::PostMessageResponse posted;
  ASSERT_TRUE(tenant_->mailbox->PostMessage(tenant_->Context().get(), post, &posted).ok());

  // The watcher sees the commit, then the message, and can act on both.
  v1::GroupEvent event;
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_TRUE(event.has_commit());
  ASSERT_TRUE(alice_group.ProcessCommit(event.commit()).ok());
  ASSERT_TRUE(reader->Read(&event));
  ASSERT_TRUE(event.has_message());
  EXPECT_EQ(event.message().sequence(), posted.sequence());
  art::ReceivedMessage received = ValueOrDie(alice_group.Unprotect(event.message().message()));
  EXPECT_EQ(std::string(received.content.data(), received.content.data() + received.content.size()), "watch this");
  context->TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // Watching a group that does not exist fails at once.
  std::unique_ptr<grpc::ClientContext> missing_context = tenant_->Context();
  request.set_group_id("missing");
  auto missing = tenant_->groups->WatchGroup(missing_context.get(), request);
  EXPECT_FALSE(missing->Read(&event));
  EXPECT_EQ(missing->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, ACommitNeedsNoMemberAuthButOneSentIsChecked) {
  auto alice = tenant_->NewMember("alice");
  auto bob = tenant_->NewMember("bob");
  art::MemberGroup group = CreateGroup(*tenant_, *alice, {bob.get()}, "self-signed");
  art::PendingCommit update = ValueOrDie(group.CreateUpdate());
  v1::SubmitCommitRequest request;
  *request.mutable_commit() = update.commit;
  // A MemberAuth by someone else is refused ...
  *request.mutable_auth() = tenant_->Sign(*bob, art::kSubmitCommitMethod, art::RequestDigest(request));
  v1::SubmitCommitResponse response;
  EXPECT_GRPC(tenant_->groups->SubmitCommit(tenant_->Context().get(), request, &response), PERMISSION_DENIED);
  // ... none at all is fine: the commit's signature speaks for alice.
  request.clear_auth();
  ASSERT_TRUE(tenant_->groups->SubmitCommit(tenant_->Context().get(), request, &response).ok());
  // And a replay of it loses the epoch race.
  EXPECT_GRPC(tenant_->groups->SubmitCommit(tenant_->Context().get(), request, &response), ABORTED);
}

TEST_F(ServiceTest, TenantsAreIsolated) {
  auto other = harness_->NewTenant("tenant-b");
  auto alice = tenant_->NewMember("alice");
  auto bob = tenant_->NewMember("bob");
  art::MemberGroup group = CreateGroup(*tenant_, *alice, {bob.get()}, "private");
  // Tenant B sees none of tenant A's members or groups, even by the same names.
  v1::FetchPrekeyBundleRequest bundle;
  bundle.set_member_id("bob");
  v1::FetchPrekeyBundleResponse bundle_response;
  EXPECT_GRPC(other->keys->FetchPrekeyBundle(other->Context().get(), bundle, &bundle_response), NOT_FOUND);
  v1::GetGroupRequest get;
  get.set_group_id("private");
  v1::GetGroupResponse got;
  EXPECT_GRPC(other->groups->GetGroup(other->Context().get(), get, &got), NOT_FOUND);
  EXPECT_TRUE(tenant_->groups->GetGroup(tenant_->Context().get(), get, &got).ok());
  v1::FetchMessagesRequest messages;
  messages.set_group_id("private");
  v1::FetchMessagesResponse fetched;
  EXPECT_GRPC(other->mailbox->FetchMessages(other->Context().get(), messages, &fetched), NOT_FOUND);
  // Nor can it write: a commit for A's group, relayed through B's key, finds no group.
  art::PendingCommit update = ValueOrDie(group.CreateUpdate());
  v1::SubmitCommitResponse submitted;
  EXPECT_GRPC(Submit(*other, *alice, update, &submitted), NOT_FOUND);
  EXPECT_TRUE(Submit(*tenant_, *alice, update, &submitted).ok());
}

TEST_F(ServiceTest, AnAlarmNeedsTheAcceptedCommitAndAMemberOfItsEpochAndIsRecordedOnce) {
  auto alice = tenant_->NewMember("alice");
  auto bob = tenant_->NewMember("bob");
  art::MemberGroup alice_group = CreateGroup(*tenant_, *alice, {bob.get()}, "team");
  art::MemberGroup bob_group = Join(*tenant_, *bob, "team");
  art::PendingCommit update = ValueOrDie(bob_group.CreateUpdate());
  v1::SubmitCommitResponse submitted;
  ASSERT_TRUE(Submit(*tenant_, *bob, update, &submitted).ok());
  const v1::Commit accepted = update.commit;

  // Alice reports the commit for epoch 1 (made from epoch 0), signing with her leaf's key.
  auto report = [&](const v1::Commit& commit, v1::AlarmReason reason, const std::string& detail,
                    uint32_t reporter_leaf, const art::testing::TestMember& signer, v1::ReportAlarmResponse* response) {
    v1::ReportAlarmRequest request;
    *request.mutable_commit() = commit;
    request.set_reason(reason);
    request.set_detail(detail);
    request.set_reporter_leaf(reporter_leaf);
    *request.mutable_auth() = tenant_->Sign(signer, art::kReportAlarmMethod, art::RequestDigest(request));
    return tenant_->groups->ReportAlarm(tenant_->Context().get(), request, response);
  };
  const uint32_t alice_leaf = alice_group.own_leaf();
  v1::ReportAlarmResponse reported;
  ASSERT_TRUE(report(accepted, v1::ALARM_REASON_COMMIT_REJECTED, "tag mismatch", alice_leaf, *alice, &reported).ok());
  // Reported again (a fresh signature): the same alarm, not a second one.
  v1::ReportAlarmResponse again;
  ASSERT_TRUE(report(accepted, v1::ALARM_REASON_COMMIT_REJECTED, "again", alice_leaf, *alice, &again).ok());
  EXPECT_EQ(again.alarm_id(), reported.alarm_id());

  // Refused, each recording nothing: a commit that is not the accepted one, ...
  v1::Commit forged = accepted;
  forged.set_confirmation_tag(std::string(forged.confirmation_tag().size(), '\0'));
  grpc::Status status = report(forged, v1::ALARM_REASON_COMMIT_REJECTED, "", alice_leaf, *alice, &again);
  EXPECT_GRPC(status, INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("not the commit accepted for epoch 1"));
  // ... a signature that is not the reporter leaf's, a leaf without a member, a commit not yet made,
  EXPECT_GRPC(report(accepted, v1::ALARM_REASON_COMMIT_REJECTED, "", bob_group.own_leaf(), *alice, &again),
              PERMISSION_DENIED);
  EXPECT_GRPC(report(accepted, v1::ALARM_REASON_COMMIT_REJECTED, "", 99, *alice, &again), INVALID_ARGUMENT);
  v1::Commit future = accepted;
  future.set_epoch(1);
  EXPECT_GRPC(report(future, v1::ALARM_REASON_COMMIT_REJECTED, "", alice_leaf, *alice, &again), INVALID_ARGUMENT);
  // ... no reason, an oversized detail, an unknown group.
  EXPECT_GRPC(report(accepted, v1::ALARM_REASON_UNSPECIFIED, "", alice_leaf, *alice, &again), INVALID_ARGUMENT);
  EXPECT_GRPC(report(accepted, v1::ALARM_REASON_COMMIT_REJECTED, std::string(1025, 'x'), alice_leaf, *alice, &again),
              INVALID_ARGUMENT);
  v1::Commit elsewhere = accepted;
  elsewhere.set_group_id("no-such-group");
  EXPECT_GRPC(report(elsewhere, v1::ALARM_REASON_COMMIT_REJECTED, "", alice_leaf, *alice, &again), NOT_FOUND);
  // ... and a replayed request.
  v1::ReportAlarmRequest replayed;
  *replayed.mutable_commit() = accepted;
  replayed.set_reason(v1::ALARM_REASON_COMMIT_FOR_OWN_LEAF);
  replayed.set_reporter_leaf(alice_leaf);
  *replayed.mutable_auth() = tenant_->Sign(*alice, art::kReportAlarmMethod, art::RequestDigest(replayed));
  ASSERT_TRUE(tenant_->groups->ReportAlarm(tenant_->Context().get(), replayed, &again).ok());
  EXPECT_GRPC(tenant_->groups->ReportAlarm(tenant_->Context().get(), replayed, &again), PERMISSION_DENIED);

  // The tenant's backend sees the one alarm, with the first report's reason and detail.
  v1::ListAlarmsRequest list;
  v1::ListAlarmsResponse alarms;
  ASSERT_TRUE(tenant_->groups->ListAlarms(tenant_->Context().get(), list, &alarms).ok());
  ASSERT_EQ(alarms.alarms_size(), 1);
  EXPECT_EQ(alarms.alarms(0).alarm_id(), reported.alarm_id());
  EXPECT_EQ(alarms.alarms(0).group_id(), "team");
  EXPECT_EQ(alarms.alarms(0).epoch(), 0u);
  EXPECT_EQ(alarms.alarms(0).reporter_member_id(), "alice");
  EXPECT_EQ(alarms.alarms(0).reason(), v1::ALARM_REASON_COMMIT_REJECTED);
  EXPECT_EQ(alarms.alarms(0).detail(), "tag mismatch");
  list.set_group_id("no-such-group");
  EXPECT_GRPC(tenant_->groups->ListAlarms(tenant_->Context().get(), list, &alarms), NOT_FOUND);
  auto other = harness_->NewTenant("tenant-b");
  list.clear_group_id();
  ASSERT_TRUE(other->groups->ListAlarms(other->Context().get(), list, &alarms).ok());
  EXPECT_EQ(alarms.alarms_size(), 0);
}

TEST_F(ServiceTest, StateBlobsUseCompareAndSwap) {
  auto alice = tenant_->NewMember("alice");
  auto put = [&](uint64_t expected, const std::string& data, v1::PutStateResponse* response) {
    v1::PutStateRequest request;
    request.set_member_id("alice");
    request.set_name("device-1");
    request.set_expected_version(expected);
    request.set_ciphertext(data);
    *request.mutable_auth() = tenant_->Sign(*alice, art::kPutStateMethod, art::RequestDigest(request));
    return tenant_->state->PutState(tenant_->Context().get(), request, response);
  };
  v1::PutStateResponse first, second, stale;
  ASSERT_TRUE(put(0, "v1", &first).ok());
  ASSERT_TRUE(put(first.version(), "v2", &second).ok());
  EXPECT_GRPC(put(first.version(), "stale", &stale), FAILED_PRECONDITION);
  EXPECT_GRPC(put(0, "again", &stale), ALREADY_EXISTS);
  v1::GetStateRequest get;
  get.set_member_id("alice");
  get.set_name("device-1");
  *get.mutable_auth() = tenant_->Sign(*alice, art::kGetStateMethod, art::RequestDigest(get));
  v1::GetStateResponse got;
  ASSERT_TRUE(tenant_->state->GetState(tenant_->Context().get(), get, &got).ok());
  EXPECT_EQ(got.ciphertext(), "v2");
  EXPECT_EQ(got.version(), second.version());
}

TEST(ServiceLimits, ConfiguredLimitsAreEnforcedWithResourceExhausted) {
  ServiceConfig config;
  config.max_group_size = 2;
  config.max_message_bytes = 300;
  config.max_one_time_prekeys_per_upload = 2;
  config.tenant_requests_per_second = 0;
  ServiceHarness harness(config);
  auto tenant = harness.NewTenant("tenant-a");
  auto alice = tenant->NewMember("alice", 2);
  auto bob = tenant->NewMember("bob", 2);
  auto carol = tenant->NewMember("carol", 2);

  // Batch size.
  auto dave = tenant->authority->NewMember("dave", 3);
  v1::PublishIdentityRequest publish;
  *publish.mutable_credential() = dave->identity.credential;
  *publish.mutable_auth() = tenant->Sign(*dave, art::kPublishIdentityMethod, art::RequestDigest(publish));
  v1::PublishIdentityResponse published;
  ASSERT_TRUE(tenant->keys->PublishIdentity(tenant->Context().get(), publish, &published).ok());
  v1::UploadPrekeysRequest upload;
  upload.set_member_id("dave");
  for (const v1::OneTimePrekey& prekey : dave->one_time_prekeys) *upload.add_one_time_prekeys() = prekey;
  *upload.mutable_auth() = tenant->Sign(*dave, art::kUploadPrekeysMethod, art::RequestDigest(upload));
  v1::UploadPrekeysResponse uploaded;
  grpc::Status status = tenant->keys->UploadPrekeys(tenant->Context().get(), upload, &uploaded);
  EXPECT_GRPC(status, RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("one_time_prekeys"));

  // Group size.
  auto bundle = [&](const std::string& member) {
    v1::FetchPrekeyBundleRequest request;
    request.set_member_id(member);
    v1::FetchPrekeyBundleResponse response;
    EXPECT_TRUE(tenant->keys->FetchPrekeyBundle(tenant->Context().get(), request, &response).ok());
    return response.bundle();
  };
  art::MemberGroup::Created three = ValueOrDie(art::MemberGroup::Create(
      tenant->authority->config(), alice->identity, "big", {bundle("bob"), bundle("carol")}));
  v1::CreateGroupRequest create;
  *create.mutable_setup() = three.setup;
  *create.mutable_auth() = tenant->Sign(*alice, art::kCreateGroupMethod, art::RequestDigest(create));
  v1::CreateGroupResponse created;
  status = tenant->groups->CreateGroup(tenant->Context().get(), create, &created);
  EXPECT_GRPC(status, RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("setup.members"));

  // Message size; and a group created twice is ALREADY_EXISTS.
  art::MemberGroup::Created two =
      ValueOrDie(art::MemberGroup::Create(tenant->authority->config(), alice->identity, "pair", {bundle("bob")}));
  *create.mutable_setup() = two.setup;
  *create.mutable_auth() = tenant->Sign(*alice, art::kCreateGroupMethod, art::RequestDigest(create));
  ASSERT_TRUE(tenant->groups->CreateGroup(tenant->Context().get(), create, &created).ok());
  *create.mutable_auth() = tenant->Sign(*alice, art::kCreateGroupMethod, art::RequestDigest(create));
  EXPECT_GRPC(tenant->groups->CreateGroup(tenant->Context().get(), create, &created), ALREADY_EXISTS);
  v1::PostMessageRequest post;
  *post.mutable_message() = ValueOrDie(two.group.Protect(1, art::AsBytes(std::string(400, 'x'))));
  *post.mutable_auth() = tenant->Sign(*alice, art::kPostMessageMethod, art::RequestDigest(post));
  v1::PostMessageResponse posted;
  EXPECT_GRPC(tenant->mailbox->PostMessage(tenant->Context().get(), post, &posted), RESOURCE_EXHAUSTED);
  *post.mutable_message() = ValueOrDie(two.group.Protect(1, art::AsBytes("short")));
  *post.mutable_auth() = tenant->Sign(*alice, art::kPostMessageMethod, art::RequestDigest(post));
  EXPECT_TRUE(tenant->mailbox->PostMessage(tenant->Context().get(), post, &posted).ok());
}

TEST(ServiceLimits, TenantRequestRateIsLimited) {
  ServiceConfig config;
  config.tenant_requests_per_second = 5;
  ServiceHarness harness(config);
  auto tenant = harness.NewTenant("tenant-a");
  v1::CountPrekeysRequest request;
  request.set_member_id("anyone");
  v1::CountPrekeysResponse response;
  int exhausted = 0;
  for (int i = 0; i < 20; ++i) {
    grpc::Status status = tenant->keys->CountPrekeys(tenant->Context().get(), request, &response);
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted;
  }
  // A burst of 20 against a bucket of 5 (refilling at 5/s) must be cut short.
  EXPECT_GE(exhausted, 10);
}

TEST_F(ServiceTest, ConflictingRequestsGetTheRightStatus) {
  auto alice = tenant_->NewMember("alice");
  // A different identity for an existing member id: ALREADY_EXISTS.
  auto second = tenant_->authority->NewMember("alice");
  v1::PublishIdentityRequest publish;
  *publish.mutable_credential() = second->identity.credential;
  *publish.mutable_auth() = tenant_->Sign(*second, art::kPublishIdentityMethod, art::RequestDigest(publish));
  v1::PublishIdentityResponse published;
  EXPECT_GRPC(tenant_->keys->PublishIdentity(tenant_->Context().get(), publish, &published), ALREADY_EXISTS);
  // A request signed too long ago: PERMISSION_DENIED.
  v1::GetStateRequest get;
  get.set_member_id("alice");
  get.set_name("nothing");
  *get.mutable_auth() = ValueOrDie(art::SignRequest(alice->identity.signing_key, "tenant-a", art::kGetStateMethod,
                                                    "alice", art::RequestDigest(get), 1'000));
  v1::GetStateResponse got;
  grpc::Status status = tenant_->state->GetState(tenant_->Context().get(), get, &got);
  EXPECT_GRPC(status, PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("timestamp"));
  // Signed for another method: PERMISSION_DENIED.
  *get.mutable_auth() = tenant_->Sign(*alice, art::kPutStateMethod, art::RequestDigest(get));
  EXPECT_GRPC(tenant_->state->GetState(tenant_->Context().get(), get, &got), PERMISSION_DENIED);
  // Properly signed, but nothing stored: NOT_FOUND.
  *get.mutable_auth() = tenant_->Sign(*alice, art::kGetStateMethod, art::RequestDigest(get));
  EXPECT_GRPC(tenant_->state->GetState(tenant_->Context().get(), get, &got), NOT_FOUND);
}

TEST_F(ServiceTest, MalformedRequestsGetInvalidArgumentNamingTheField) {
  v1::CreateGroupRequest empty;
  v1::CreateGroupResponse response;
  grpc::Status status = tenant_->groups->CreateGroup(tenant_->Context().get(), empty, &response);
  EXPECT_GRPC(status, INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("setup"));
  v1::GetGroupRequest get;
  v1::GetGroupResponse got;
  status = tenant_->groups->GetGroup(tenant_->Context().get(), get, &got);
  EXPECT_GRPC(status, INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("group_id"));
  v1::CountPrekeysRequest count;
  v1::CountPrekeysResponse counted;
  status = tenant_->keys->CountPrekeys(tenant_->Context().get(), count, &counted);
  EXPECT_GRPC(status, INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("member_id"));
}

}  // namespace
}  // namespace artd::testing
