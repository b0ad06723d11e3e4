// The client SDK against an in-process service: offline joins, races, adds and removals, leaving,
// prekey upkeep, restarts, and state kept in the service.
#include "client/member_client.h"

#include <atomic>
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "art/crypto/bytes.h"
#include "client/service_state_store.h"
#include "client/testing/client_fixture.h"

namespace artd::client::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The contents of |messages|, in order.
std::vector<std::string> Contents(const std::vector<ReceivedMessage>& messages) {
  std::vector<std::string> contents;
  for (const ReceivedMessage& message : messages) contents.push_back(Text(message.content));
  return contents;
}

std::vector<std::string> ReceiveAll(MemberClient& member, const std::string& group_id) {
  absl::StatusOr<std::vector<ReceivedMessage>> received = member.Receive(group_id);
  EXPECT_TRUE(received.ok()) << member.member_id() << ": " << received.status();
  return received.ok() ? Contents(*received) : std::vector<std::string>();
}

TEST_F(ClientTest, MembersNeverOnlineTogetherShareEachEpochsKey) {
  auto alice = Register("alice");
  auto bob = Register("bob");
  auto carol = Register("carol");
  GroupInfo created = ValueOrDie(alice->CreateGroup("team", {"bob", "carol"}));
  EXPECT_EQ(created.epoch, 0u);
  EXPECT_THAT(created.members, ElementsAre("alice", "bob", "carol"));

  // Bob comes online only after Alice is done, and joins from the Setup.
  GroupInfo bob_info = ValueOrDie(bob->JoinGroup("team"));
  EXPECT_TRUE(bob_info.epoch_authenticator == created.epoch_authenticator);
  // Alice and Bob update several times while Carol is away (Bob's first send updates for hygiene).
  ASSERT_TRUE(bob->Send("team", art::AsBytes("hello from bob")).ok());
  EXPECT_THAT(ReceiveAll(*alice, "team"), ElementsAre("hello from bob"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(alice->Update("team").ok());
  ASSERT_TRUE(bob->Update("team").ok());

  // Carol joins much later and catches up across every epoch since the Setup.
  GroupInfo carol_info = ValueOrDie(carol->JoinGroup("team"));
  EXPECT_EQ(carol_info.epoch, 5u);  // Bob's hygiene update, Alice's three, Bob's one.
  EXPECT_EQ(ExpectAgree("team", {alice.get(), bob.get(), carol.get()}), 5u);
  // She was in the group since the Setup: catching up epoch by epoch, she reads Bob's message of
  // epoch 1 in its epoch, before the keys of that epoch are gone.
  EXPECT_THAT(ReceiveAll(*carol, "team"), ElementsAre("hello from bob"));

  ASSERT_TRUE(carol->Send("team", art::AsBytes("carol here")).ok());
  EXPECT_THAT(ReceiveAll(*alice, "team"), ElementsAre("carol here"));
  EXPECT_THAT(ReceiveAll(*bob, "team"), ElementsAre("carol here"));
  // Nothing is read twice.
  EXPECT_THAT(ReceiveAll(*bob, "team"), ElementsAre());
  const uint64_t epoch = ExpectAgree("team", {alice.get(), bob.get(), carol.get()});
  art::SecretBytes exported = ValueOrDie(alice->Export("team", "app key", art::AsBytes("ctx"), 32));
  EXPECT_TRUE(exported == ValueOrDie(carol->Export("team", "app key", art::AsBytes("ctx"), 32)));
  EXPECT_EQ(ValueOrDie(bob->Info("team")).epoch, epoch);
  EXPECT_THAT(alice->GroupIds(), ElementsAre("team"));
}

TEST_F(ClientTest, AWatchingMemberSeesNewCommitsAndMessagesAsTheyArrive) {
  auto alice = Register("alice");
  auto bob = Register("bob");
  ValueOrDie(alice->CreateGroup("watched", {"bob"}));
  ValueOrDie(bob->JoinGroup("watched"));
  std::vector<std::string> seen;
  uint64_t last_epoch = 0;
  std::thread watcher([&] {
    absl::Status watched = bob->Watch(
        "watched",
        [&](WatchUpdate update) {
          last_epoch = update.info.epoch;
          for (const ReceivedMessage& message : update.messages) {
            seen.emplace_back(message.content.data(), message.content.data() + message.content.size());
          }
          return seen.empty() || seen.back() != "last";  // Stop after the last message.
        },
        absl::Now() + absl::Seconds(30));
    EXPECT_TRUE(watched.ok()) << watched;
  });
  ASSERT_TRUE(alice->Update("watched").ok());
  ASSERT_TRUE(alice->Send("watched", art::AsBytes("first")).ok());
  ASSERT_TRUE(alice->Update("watched").ok());
  ASSERT_TRUE(alice->Send("watched", art::AsBytes("last")).ok());
  watcher.join();
  EXPECT_THAT(seen, ElementsAre("first", "last"));
  EXPECT_EQ(last_epoch, ValueOrDie(alice->Info("watched")).epoch);
  EXPECT_EQ(ExpectAgree("watched", {alice.get(), bob.get()}), last_epoch);
}

TEST_F(ClientTest, MessagesAreReadInTheirEpochWhateverCatchesUpFirst) {
  auto alice = Register("alice");
  auto bob = Register("bob");
  ValueOrDie(alice->CreateGroup("inbox", {"bob"}));
  ValueOrDie(bob->JoinGroup("inbox"));
  // Bob sends; Alice, without receiving, updates three times and sends: her commits' catch-up and
  // her Send's catch-up move her three epochs past Bob's message, whose keys would be gone by now.
  ASSERT_TRUE(bob->Send("inbox", art::AsBytes("early")).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(alice->Update("inbox").ok());
  ASSERT_TRUE(alice->Send("inbox", art::AsBytes("reply")).ok());
  // It was read on the way and kept (encrypted) for her next Receive, even across a restart.
  alice = Reopen("alice");
  EXPECT_THAT(ReceiveAll(*alice, "inbox"), ElementsAre("early"));
  EXPECT_THAT(ReceiveAll(*bob, "inbox"), ElementsAre("reply"));
}

TEST_F(ClientTest, ConcurrentCommitsBothSucceedInSomeOrder) {
  std::vector<std::unique_ptr<MemberClient>> members;
  for (const char* name : {"alice", "bob", "carol", "dave"}) members.push_back(Register(name));
  ASSERT_TRUE(members[0]->CreateGroup("busy", {"bob", "carol", "dave"}).ok());
  for (size_t i = 1; i < members.size(); ++i) ASSERT_TRUE(members[i]->JoinGroup("busy").ok());

  // Every member commits for epoch 0 at once: each loses races until it wins one.
  std::vector<absl::Status> results(members.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < members.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = members[i]->Update("busy").status(); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& result : results) EXPECT_TRUE(result.ok()) << result;
  std::vector<MemberClient*> all;
  for (auto& member : members) all.push_back(member.get());
  EXPECT_EQ(ExpectAgree("busy", all), members.size());
}

TEST_F(ClientTest, LosingEveryRaceEndsWithAbortedNamingTheAttempts) {
  auto alice = Register("alice");
  ClientOptions impatient = Options();
  impatient.max_commit_attempts = 1;
  auto bob = Register("bob", impatient);
  ASSERT_TRUE(alice->CreateGroup("g", {"bob"}).ok());
  ASSERT_TRUE(bob->JoinGroup("g").ok());
  ASSERT_TRUE(alice->Update("g").ok());
  // Bob is one epoch behind and may try only once.
  absl::Status lost = bob->Update("g").status();
  EXPECT_EQ(lost.code(), absl::StatusCode::kAborted) << lost;
  EXPECT_THAT(lost.message(), HasSubstr("1 times (max_commit_attempts)"));
  // He caught up on the way, so the next attempt wins.
  EXPECT_TRUE(bob->Update("g").ok());
  ExpectAgree("g", {alice.get(), bob.get()});
}

TEST_F(ClientTest, AddedMembersJoinFromWelcomesAndRemovedMembersReadNothingMore) {
  auto alice = Register("alice");
  auto bob = Register("bob");
  auto dave = Register("dave");
  ASSERT_TRUE(alice->CreateGroup("team", {"bob"}).ok());
  ASSERT_TRUE(bob->JoinGroup("team").ok());
  ASSERT_TRUE(alice->Add("team", "dave").ok());
  EXPECT_EQ(alice->Add("team", "dave").status().code(), absl::StatusCode::kAlreadyExists);
  std::vector<GroupInfo> joined = ValueOrDie(dave->AcceptWelcomes());
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].group_id, "team");
  EXPECT_TRUE(ValueOrDie(dave->AcceptWelcomes()).empty());  // Acknowledged.
  ExpectAgree("team", {alice.get(), bob.get(), dave.get()});

  ASSERT_TRUE(dave->Remove("team", "bob").ok());
  ASSERT_TRUE(alice->Send("team", art::AsBytes("bob is gone")).ok());
  EXPECT_THAT(ReceiveAll(*dave, "team"), ElementsAre("bob is gone"));
  absl::StatusOr<std::vector<ReceivedMessage>> bob_reads = bob->Receive("team");
  EXPECT_EQ(bob_reads.status().code(), absl::StatusCode::kFailedPrecondition) << bob_reads.status();
  EXPECT_EQ(bob->Update("team").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bob->Send("team", art::AsBytes("still here?")).status().code(), absl::StatusCode::kFailedPrecondition);
  GroupInfo bob_view = ValueOrDie(bob->Info("team"));
  EXPECT_TRUE(bob_view.epoch_authenticator.empty());
  EXPECT_THAT(bob->GroupIds(), IsEmpty());
  EXPECT_THAT(dave->GroupIds(), ElementsAre("team"));
  EXPECT_THAT(ExpectAgree("team", {alice.get(), dave.get()}), 3u);
  EXPECT_THAT(ValueOrDie(alice->Info("team")).members, ElementsAre("alice", "dave"));
  EXPECT_EQ(alice->Remove("team", "alice").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, ALeavingMemberIsRemovedByWhoeverReadsItsRequest) {
  auto alice = Register("alice");
  auto bob = Register("bob");
  auto carol = Register("carol");
  ASSERT_TRUE(alice->CreateGroup("team", {"bob", "carol"}).ok());
  ASSERT_TRUE(bob->JoinGroup("team").ok());
  ASSERT_TRUE(carol->JoinGroup("team").ok());
  ASSERT_TRUE(carol->Leave("team").ok());
  // Both remaining members read the request; one commits the removal, the other finds it done.
  EXPECT_THAT(ReceiveAll(*alice, "team"), ElementsAre());
  EXPECT_THAT(ReceiveAll(*bob, "team"), ElementsAre());
  ExpectAgree("team", {alice.get(), bob.get()});
  EXPECT_THAT(ValueOrDie(bob->Info("team")).members, ElementsAre("alice", "bob"));
  EXPECT_EQ(carol->Receive("team").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(carol->GroupIds(), IsEmpty());
  EXPECT_THAT(bob->GroupIds(), ElementsAre("team"));
}

TEST_F(ClientTest, PrekeysAreReplenishedAndTheSignedPrekeyRotated) {
  auto alice = Register("alice");
  ClientOptions options = Options();
  options.one_time_prekeys = 3;
  options.replenish_below = 2;
  auto bob = Register("bob", options);
  auto count = [&] {
    art::v1::CountPrekeysRequest request;
    request.set_member_id("bob");
    art::v1::CountPrekeysResponse response;
    EXPECT_TRUE(tenant_->keys->CountPrekeys(tenant_->Context().get(), request, &response).ok());
    return response;
  };
  EXPECT_EQ(count().one_time_prekeys_remaining(), 3u);
  ASSERT_TRUE(bob->MaintainPrekeys().ok());  // Nothing due.
  EXPECT_EQ(count().one_time_prekeys_remaining(), 3u);
  ASSERT_TRUE(alice->CreateGroup("one", {"bob"}).ok());
  ASSERT_TRUE(alice->CreateGroup("two", {"bob"}).ok());
  EXPECT_EQ(count().one_time_prekeys_remaining(), 1u);
  ASSERT_TRUE(bob->MaintainPrekeys().ok());
  EXPECT_EQ(count().one_time_prekeys_remaining(), 3u);
  // The consumed one-time prekeys' secrets were kept until used, and survive a restart.
  bob = Reopen("bob");
  ASSERT_TRUE(bob->JoinGroup("one").ok());
  ASSERT_TRUE(bob->JoinGroup("two").ok());
  ExpectAgree("two", {alice.get(), bob.get()});

  // Once its lifetime is over, upkeep rotates the signed prekey; groups form with the new one.
  // Carol's clock is moved forward instead of waiting for the lifetime to pass (by less than the
  // service's allowed clock skew, which her signed requests must stay within).
  std::atomic<int64_t> clock_ahead_seconds{0};
  ClientOptions rotating = Options();
  rotating.signed_prekey_lifetime = absl::Minutes(2);
  rotating.signed_prekey_grace = absl::ZeroDuration();
  rotating.clock_for_testing = [&] { return absl::Now() + absl::Seconds(clock_ahead_seconds.load()); };
  auto carol = Register("carol", rotating);
  art::v1::CountPrekeysRequest request;
  request.set_member_id("carol");
  art::v1::CountPrekeysResponse before, early, after;
  ASSERT_TRUE(tenant_->keys->CountPrekeys(tenant_->Context().get(), request, &before).ok());
  clock_ahead_seconds = 100;
  ASSERT_TRUE(carol->MaintainPrekeys().ok());
  ASSERT_TRUE(tenant_->keys->CountPrekeys(tenant_->Context().get(), request, &early).ok());
  EXPECT_EQ(early.signed_prekey_id(), before.signed_prekey_id());  // Not due yet.
  clock_ahead_seconds = 130;
  ASSERT_TRUE(carol->MaintainPrekeys().ok());
  ASSERT_TRUE(tenant_->keys->CountPrekeys(tenant_->Context().get(), request, &after).ok());
  EXPECT_NE(after.signed_prekey_id(), before.signed_prekey_id());
  ASSERT_TRUE(alice->CreateGroup("three", {"carol"}).ok());
  ASSERT_TRUE(carol->JoinGroup("three").ok());
}

TEST_F(ClientTest, ACommitMadeWithAStolenIdentityRaisesTheAlarmWhichIsReportedAndEndsTheGroup) {
  auto alice = Register("alice");
  auto bob = Register("bob");
  ASSERT_TRUE(alice->CreateGroup("team", {"bob"}).ok());
  ASSERT_TRUE(bob->JoinGroup("team").ok());
  // A thief copies Alice's state (her identity key and group secrets) and commits as her.
  const std::string stolen = artd::testing::TempPath("state-thief");
  std::filesystem::copy(StateDir("alice"), stolen, std::filesystem::copy_options::recursive);
  auto thief = ValueOrDie(MemberClient::Open(Options(), "alice", ValueOrDie(OpenFileStateStore(stolen, StateKey()))));
  ASSERT_TRUE(thief->Update("team").ok());

  // Alice meets a commit signed for her own leaf that she did not make: the alarm.
  absl::Status alarm = alice->Send("team", art::AsBytes("hello")).status();
  EXPECT_EQ(alarm.code(), absl::StatusCode::kFailedPrecondition) << alarm;
  EXPECT_THAT(alarm.message(), HasSubstr("identity key may be compromised"));
  EXPECT_THAT(alarm.message(), HasSubstr("reported to the service"));
  // The service holds the report, for the tenant's backend to act on.
  art::v1::ListAlarmsRequest list;
  list.set_group_id("team");
  art::v1::ListAlarmsResponse alarms;
  ASSERT_TRUE(tenant_->groups->ListAlarms(tenant_->Context().get(), list, &alarms).ok());
  ASSERT_EQ(alarms.alarms_size(), 1);
  EXPECT_EQ(alarms.alarms(0).reporter_member_id(), "alice");
  EXPECT_EQ(alarms.alarms(0).reason(), art::v1::ALARM_REASON_COMMIT_FOR_OWN_LEAF);
  EXPECT_EQ(alarms.alarms(0).epoch(), 0u);

  // Alice no longer uses the group, not even after a restart; nothing was posted.
  EXPECT_EQ(alice->Receive("team").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(alice->Update("team").status().code(), absl::StatusCode::kFailedPrecondition);
  alice = Reopen("alice");
  absl::Status reopened = alice->Send("team", art::AsBytes("hello")).status();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reopened.message(), HasSubstr("no longer used"));
  EXPECT_EQ(ValueOrDie(alice->Info("team")).epoch, 0u);
  EXPECT_THAT(ReceiveAll(*bob, "team"), IsEmpty());
  // Reported once: the reopened member knew it had been.
  ASSERT_TRUE(tenant_->groups->ListAlarms(tenant_->Context().get(), list, &alarms).ok());
  EXPECT_EQ(alarms.alarms_size(), 1);
}

// |creator| creates |group_id| with Mallory, a member who runs her own code rather than the SDK;
// she commits an update whose confirmation tag the service cannot check (it holds no secret) and
// no member accepts.
void CommitWithABadTagByMallory(artd::testing::TenantClient& tenant, MemberClient& creator,
                                const std::string& group_id) {
  auto mallory = tenant.NewMember("mallory");
  ASSERT_TRUE(creator.CreateGroup(group_id, {"mallory"}).ok());
  art::MemberGroup mallory_group = artd::testing::Join(tenant, *mallory, group_id);
  art::PendingCommit update = ValueOrDie(mallory_group.CreateUpdate());
  update.commit.set_confirmation_tag(std::string(update.commit.confirmation_tag().size(), '\0'));
  art::v1::SubmitCommitResponse submitted;
  ASSERT_TRUE(artd::testing::Submit(tenant, *mallory, update, &submitted).ok());
}

TEST_F(ClientTest, ACommitThatFailsAMembersChecksRaisesTheAlarm) {
  auto alice = Register("alice");
  CommitWithABadTagByMallory(*tenant_, *alice, "team");

  absl::Status alarm = alice->Receive("team").status();
  EXPECT_EQ(alarm.code(), absl::StatusCode::kFailedPrecondition) << alarm;
  EXPECT_THAT(alarm.message(), HasSubstr("fails this member's checks"));
  art::v1::ListAlarmsRequest list;
  art::v1::ListAlarmsResponse alarms;
  ASSERT_TRUE(tenant_->groups->ListAlarms(tenant_->Context().get(), list, &alarms).ok());
  ASSERT_EQ(alarms.alarms_size(), 1);
  EXPECT_EQ(alarms.alarms(0).reporter_member_id(), "alice");
  EXPECT_EQ(alarms.alarms(0).reason(), art::v1::ALARM_REASON_COMMIT_REJECTED);
  EXPECT_EQ(alarms.alarms(0).epoch(), 0u);
  EXPECT_EQ(alice->Send("team", art::AsBytes("hello")).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ClientTest, AnAlarmTheServiceDidNotTakeIsReportedOnALaterCallEvenAfterARestart) {
  std::atomic<int64_t> clock_ahead_seconds{0};
  ClientOptions options = Options();
  options.clock_for_testing = [&] { return absl::Now() + absl::Seconds(clock_ahead_seconds.load()); };
  auto alice = Register("alice", options);
  CommitWithABadTagByMallory(*tenant_, *alice, "team");
  art::v1::ListAlarmsRequest list;
  art::v1::ListAlarmsResponse alarms;

  // Alice's clock is an hour off, so the service refuses her signed report (outside its window).
  clock_ahead_seconds = 3600;
  absl::Status alarm = alice->Receive("team").status();
  EXPECT_EQ(alarm.code(), absl::StatusCode::kFailedPrecondition) << alarm;
  EXPECT_THAT(alarm.message(), HasSubstr("not yet reported"));
  ASSERT_TRUE(tenant_->groups->ListAlarms(tenant_->Context().get(), list, &alarms).ok());
  EXPECT_EQ(alarms.alarms_size(), 0);

  // Restarted with a right clock, the group stays unused and the first use reports the alarm.
  alice = Reopen("alice");
  absl::Status later = alice->Send("team", art::AsBytes("hello")).status();
  EXPECT_EQ(later.code(), absl::StatusCode::kFailedPrecondition) << later;
  EXPECT_THAT(later.message(), HasSubstr("reported to the service"));
  ASSERT_TRUE(tenant_->groups->ListAlarms(tenant_->Context().get(), list, &alarms).ok());
  ASSERT_EQ(alarms.alarms_size(), 1);
  EXPECT_EQ(alarms.alarms(0).reason(), art::v1::ALARM_REASON_COMMIT_REJECTED);
}

TEST_F(ClientTest, ACommitByAnotherProcessOfTheSameMemberRaisesNoAlarm) {
  // Two processes act for Alice on one state store. While one is between the service accepting its
  // commit and saving it, the other meets that commit, signed for Alice's leaf.
  MemberClient* other_process = nullptr;
  absl::Status seen_meanwhile;
  ClientOptions options = Options();
  options.crash_point_for_testing = [&](std::string_view point) {
    if (point == "after-submit-before-save" && other_process != nullptr) {
      seen_meanwhile = other_process->Receive("team").status();
    }
  };
  auto alice = Register("alice", options);
  auto bob = Register("bob");
  ASSERT_TRUE(alice->CreateGroup("team", {"bob"}).ok());
  ASSERT_TRUE(bob->JoinGroup("team").ok());
  auto alice_elsewhere = Reopen("alice");
  other_process = alice_elsewhere.get();
  ASSERT_TRUE(alice->Update("team").ok());
  other_process = nullptr;
  EXPECT_EQ(seen_meanwhile.code(), absl::StatusCode::kFailedPrecondition) << seen_meanwhile;
  EXPECT_THAT(seen_meanwhile.message(), HasSubstr("another process of member alice"));
  // Its state is stale now: refused once, it reloads and then agrees. No alarm anywhere.
  absl::Status stale = alice_elsewhere->Receive("team").status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  EXPECT_THAT(stale.message(), HasSubstr("reloaded it"));
  EXPECT_EQ(ExpectAgree("team", {alice.get(), alice_elsewhere.get(), bob.get()}), 1u);
  art::v1::ListAlarmsRequest list;
  art::v1::ListAlarmsResponse alarms;
  ASSERT_TRUE(tenant_->groups->ListAlarms(tenant_->Context().get(), list, &alarms).ok());
  EXPECT_EQ(alarms.alarms_size(), 0);
}

TEST_F(ClientTest, AMemberReopenedFromItsStoreContinues) {
  auto alice = Register("alice");
  auto bob = Register("bob");
  ASSERT_TRUE(alice->CreateGroup("g", {"bob"}).ok());
  ASSERT_TRUE(bob->JoinGroup("g").ok());
  ASSERT_TRUE(bob->Send("g", art::AsBytes("one")).ok());
  EXPECT_THAT(ReceiveAll(*alice, "g"), ElementsAre("one"));

  alice.reset();
  bob.reset();
  alice = Reopen("alice");
  bob = Reopen("bob");
  EXPECT_THAT(alice->GroupIds(), ElementsAre("g"));
  ExpectAgree("g", {alice.get(), bob.get()});
  // The ratchet and the read position were saved: no key reuse, nothing read twice.
  ASSERT_TRUE(bob->Send("g", art::AsBytes("two")).ok());
  EXPECT_THAT(ReceiveAll(*alice, "g"), ElementsAre("two"));
  ASSERT_TRUE(alice->Update("g").ok());
  ASSERT_TRUE(alice->Send("g", art::AsBytes("three")).ok());
  EXPECT_THAT(ReceiveAll(*bob, "g"), ElementsAre("three"));
  ExpectAgree("g", {alice.get(), bob.get()});

  // A member registered already cannot be registered again over its state.
  std::unique_ptr<StateStore> store = ValueOrDie(OpenFileStateStore(StateDir("bob"), StateKey()));
  EXPECT_EQ(MemberClient::Register(Options(), "bob", Certify(), std::move(store)).status().code(),
            absl::StatusCode::kAlreadyExists);
  std::unique_ptr<StateStore> empty = ValueOrDie(OpenFileStateStore(StateDir("nobody"), StateKey()));
  EXPECT_EQ(MemberClient::Open(Options(), "nobody", std::move(empty)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientTest, StateKeptInTheServiceRefusesAStaleWriterWhichReloads) {
  auto bob = Register("bob");
  auto alice = ValueOrDie(MemberClient::Register(
      Options(), "alice", Certify(), ValueOrDie(OpenServiceStateStore(Options(), "alice", StateKey()))));
  ASSERT_TRUE(alice->CreateGroup("g", {"bob"}).ok());
  ASSERT_TRUE(bob->JoinGroup("g").ok());

  // A second device of Alice's opens the same state from the service with her signing key.
  auto alice_again = ValueOrDie(MemberClient::Open(
      Options(), "alice", ValueOrDie(OpenServiceStateStore(Options(), "alice", StateKey(), alice->signing_key()))));
  EXPECT_THAT(alice_again->GroupIds(), ElementsAre("g"));
  ASSERT_TRUE(alice->Update("g").ok());
  // The second device's state is now stale: its write is refused, and it reloads.
  absl::Status stale = alice_again->Update("g").status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  EXPECT_THAT(stale.message(), HasSubstr("reloaded"));
  EXPECT_EQ(ValueOrDie(alice_again->Info("g")).epoch, 1u);
  ASSERT_TRUE(alice_again->Update("g").ok());
  ExpectAgree("g", {alice_again.get(), bob.get()});

  // The service holds only ciphertext, under the key the application gave; another key fails.
  auto wrong_key = OpenServiceStateStore(Options(), "alice", art::SecretBytes(32), alice->signing_key());
  absl::StatusOr<std::optional<VersionedState>> read = (*wrong_key)->Load("identity");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
}

}  // namespace
}  // namespace artd::client::testing
