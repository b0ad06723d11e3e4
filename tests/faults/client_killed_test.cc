// A member's process killed (SIGKILL) in the middle of committing: at each named step of a commit
// (before it is submitted, after the service accepted it but before the member saved the new epoch,
// after that save), and at random instants of a stream of commits. Each time the member restarts from
// its stored state by itself (MemberClient::Open) and the group converges: every member at one epoch
// and epoch authenticator, the log with exactly one commit per epoch (the killed member's commit is
// in it at most once), and the member commits and sends again. Against a real `artd serve`; the
// killed member is a killed_committer process, the others live in this one. (The same steps with an
// in-process server: client/crash_recovery_test; through artd_cli: tests/cli/cli_test.)
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <set>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "art/crypto/bytes.h"
#include "art/identity/credential.h"
#include "client/member_client.h"
#include "tests/process/process_test.h"

namespace artd::testing {
namespace {

constexpr char kGroup[] = "g";
constexpr absl::Duration kCommitterTimeout = absl::Seconds(30);

art::SecretBytes StateKey() {
  art::SecretBytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<uint8_t>(0x5A + i);
  return key;
}

class ClientKilledTest : public ProcessTest {
 protected:
  // A server, and a group of alice (its creator), bob and carol, all joined.
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ProcessTest::SetUp());
    ART_ASSERT_OK_AND_ASSIGN(server_, StartServer());
    tenant_client_ = Connect(*server_);
    ART_ASSERT_OK_AND_ASSIGN(alice_, Register("alice"));
    ART_ASSERT_OK_AND_ASSIGN(bob_, Register("bob"));
    ART_ASSERT_OK_AND_ASSIGN(carol_, Register("carol"));
    ART_ASSERT_OK(alice_->CreateGroup(kGroup, {"bob", "carol"}).status());
    ART_ASSERT_OK(bob_->JoinGroup(kGroup).status());
    ART_ASSERT_OK(carol_->JoinGroup(kGroup).status());
  }

  client::ClientOptions Options() const {
    client::ClientOptions options;
    options.channel = server_->channel();
    options.api_key = tenant_->api_key;
    options.tenant_id = tenant_->tenant_id;
    options.trusted_tenant_keys = {tenant_->authority.credential_key().public_key()};
    options.one_time_prekeys = 4;
    options.retry_base = absl::Milliseconds(2);
    return options;
  }

  std::string StateDir(const std::string& member_id) {
    auto [it, inserted] = state_dirs_.emplace(member_id, "");
    if (inserted) it->second = TempPath("state-" + member_id);
    return it->second;
  }

  absl::StatusOr<std::unique_ptr<client::MemberClient>> Register(const std::string& member_id) {
    absl::StatusOr<std::unique_ptr<client::StateStore>> store =
        client::OpenFileStateStore(StateDir(member_id), StateKey());
    if (!store.ok()) return store.status();
    const art::testing::TestTenant* authority = &tenant_->authority;
    client::Certifier certify = [authority](art::v1::Credential* credential) {
      return art::CertifyCredential(authority->credential_key(), credential);
    };
    return client::MemberClient::Register(Options(), member_id, certify, *std::move(store));
  }

  // The member restarted from its stored state, as after a crash: Open settles its interrupted commit.
  absl::StatusOr<std::unique_ptr<client::MemberClient>> Reopen(const std::string& member_id) {
    absl::StatusOr<std::unique_ptr<client::StateStore>> store =
        client::OpenFileStateStore(StateDir(member_id), StateKey());
    if (!store.ok()) return store.status();
    return client::MemberClient::Open(Options(), member_id, *std::move(store));
  }

  // Runs bob as a killed_committer process that makes |commit| ("update" or "add:ID") and then
  // updates until it is killed at |step| (with |seed| for "after-random-delay"); expects it to die of
  // SIGKILL, which it only does there. Bob's MemberClient in this process is closed meanwhile.
  void KillBobAt(const std::string& step, const std::string& commit = "update", uint64_t seed = 0) {
    bob_.reset();
    std::vector<std::string> command = {RunfilePath("tests/faults/killed_committer"),
                                        absl::StrCat("127.0.0.1:", server_->port()),
                                        tenant_->api_key,
                                        tenant_->tenant_id,
                                        art::ToHex(tenant_->authority.credential_key().public_key()),
                                        "bob",
                                        StateDir("bob"),
                                        art::ToHex(StateKey().span()),
                                        kGroup,
                                        step,
                                        commit,
                                        absl::StrCat(seed)};
    ART_ASSERT_OK_AND_ASSIGN(CommandOutcome outcome, RunToEnd(command, kCommitterTimeout));
    ASSERT_TRUE(WIFSIGNALED(outcome.wait_status) && WTERMSIG(outcome.wait_status) == SIGKILL)
        << "killed_committer " << step << " was not killed there (wait status " << outcome.wait_status
        << "): " << outcome.output;
  }

  // Catches every member up and expects one epoch and authenticator among them; returns the epoch.
  uint64_t ExpectAgree() {
    std::vector<client::GroupInfo> infos;
    for (client::MemberClient* member : {alice_.get(), bob_.get(), carol_.get()}) {
      absl::StatusOr<client::GroupInfo> info = member->CatchUp(kGroup);
      EXPECT_TRUE(info.ok()) << member->member_id() << ": " << info.status();
      if (info.ok()) infos.push_back(*std::move(info));
    }
    if (infos.empty()) return 0;
    for (const client::GroupInfo& info : infos) {
      EXPECT_EQ(info.epoch, infos[0].epoch);
      EXPECT_TRUE(info.epoch_authenticator == infos[0].epoch_authenticator)
          << "the group forked at epoch " << info.epoch;
      EXPECT_EQ(info.members, infos[0].members);
    }
    return infos[0].epoch;
  }

  // The service's log of the group holds exactly one commit for each of epochs 0..|epochs|-1, no two
  // of them the same commit.
  void ExpectOneCommitPerEpoch(uint64_t epochs) {
    ART_ASSERT_OK_AND_ASSIGN(std::vector<v1::Commit> commits, ListCommits(*tenant_client_, kGroup, 0));
    ASSERT_EQ(commits.size(), epochs);
    std::set<std::string> signatures;
    for (uint64_t i = 0; i < epochs; ++i) {
      EXPECT_EQ(commits[i].epoch(), i);
      EXPECT_TRUE(signatures.insert(commits[i].signature()).second)
          << "the commit from epoch " << i << " is a duplicate";
    }
  }

  // Bob goes on after his restart: he commits, sends, and the others read it.
  void ExpectBobGoesOn() {
    ART_ASSERT_OK(bob_->Update(kGroup).status());
    ART_ASSERT_OK(bob_->Send(kGroup, art::AsBytes(std::string("after the crash"))).status());
    ART_ASSERT_OK_AND_ASSIGN(std::vector<client::ReceivedMessage> received, alice_->Receive(kGroup));
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(std::string(received[0].content.data(), received[0].content.data() + received[0].content.size()),
              "after the crash");
    ExpectOneCommitPerEpoch(ExpectAgree());
  }

  std::unique_ptr<ArtdProcess> server_;
  std::unique_ptr<TenantClient> tenant_client_;
  std::map<std::string, std::string> state_dirs_;
  // Declared after the server: closed before it goes.
  std::unique_ptr<client::MemberClient> alice_, bob_, carol_;
};

struct Step {
  const char* name;
  bool commit_accepted;  // Whether the service had accepted bob's commit when he was killed.
};

class ClientKilledAtStepTest : public ClientKilledTest, public ::testing::WithParamInterface<Step> {};

TEST_P(ClientKilledAtStepTest, RestartsFromItsStoredStateWithoutForkingTheGroup) {
  const Step& step = GetParam();
  const uint64_t before = ExpectAgree();
  ASSERT_NO_FATAL_FAILURE(KillBobAt(step.name));
  // While bob is down the group moves on without him.
  ART_ASSERT_OK(alice_->Update(kGroup).status());
  ART_ASSERT_OK_AND_ASSIGN(bob_, Reopen("bob"));
  const uint64_t after = ExpectAgree();
  EXPECT_EQ(after, before + (step.commit_accepted ? 2 : 1));
  ASSERT_NO_FATAL_FAILURE(ExpectOneCommitPerEpoch(after));
  ASSERT_NO_FATAL_FAILURE(ExpectBobGoesOn());
}

TEST_P(ClientKilledAtStepTest, AnAddAndItsWelcomeAreSettledToo) {
  const Step& step = GetParam();
  ART_ASSERT_OK_AND_ASSIGN(std::unique_ptr<client::MemberClient> dave, Register("dave"));
  const uint64_t before = ExpectAgree();
  ASSERT_NO_FATAL_FAILURE(KillBobAt(step.name, "add:dave"));
  ART_ASSERT_OK(alice_->Update(kGroup).status());
  ART_ASSERT_OK_AND_ASSIGN(bob_, Reopen("bob"));
  const uint64_t after = ExpectAgree();
  EXPECT_EQ(after, before + (step.commit_accepted ? 2 : 1));
  ASSERT_NO_FATAL_FAILURE(ExpectOneCommitPerEpoch(after));

  // Dave is in the group exactly when bob's Add was accepted, and then its Welcome lets him join and
  // catch up to where the others are.
  ART_ASSERT_OK_AND_ASSIGN(client::GroupInfo info, alice_->Info(kGroup));
  EXPECT_EQ(std::count(info.members.begin(), info.members.end(), "dave"), step.commit_accepted ? 1 : 0);
  ART_ASSERT_OK_AND_ASSIGN(std::vector<client::GroupInfo> joined, dave->AcceptWelcomes());
  ASSERT_EQ(joined.size(), step.commit_accepted ? 1u : 0u);
  if (step.commit_accepted) {
    ART_ASSERT_OK_AND_ASSIGN(client::GroupInfo dave_info, dave->CatchUp(kGroup));
    EXPECT_EQ(dave_info.epoch, after);
    EXPECT_TRUE(dave_info.epoch_authenticator == info.epoch_authenticator) << "dave forked from the group";
  }
  ASSERT_NO_FATAL_FAILURE(ExpectBobGoesOn());
}

INSTANTIATE_TEST_SUITE_P(EachStep, ClientKilledAtStepTest,
                         ::testing::Values(Step{"before-submit", false}, Step{"after-submit-before-save", true},
                                           Step{"after-save", true}),
                         [](const ::testing::TestParamInfo<Step>& info) {
                           std::string name = info.param.name;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST_F(ClientKilledTest, KilledAtRandomInstantsOfAStreamOfCommits) {
  constexpr int kKills = 6;
  const uint64_t seed = absl::ToUnixNanos(absl::Now());
  std::cout << "killed_committer seeds " << seed << ".." << seed + kKills - 1 << std::endl;
  for (int kill = 0; kill < kKills; ++kill) {
    SCOPED_TRACE(absl::StrCat("kill ", kill, ", seed ", seed + kill));
    const uint64_t before = ExpectAgree();
    ASSERT_NO_FATAL_FAILURE(KillBobAt("after-random-delay", "update", seed + kill));
    ART_ASSERT_OK(alice_->Update(kGroup).status());
    ART_ASSERT_OK_AND_ASSIGN(bob_, Reopen("bob"));
    const uint64_t after = ExpectAgree();
    // Bob's first commit went through before the kill was armed; alice's came after it.
    EXPECT_GE(after, before + 2);
    ASSERT_NO_FATAL_FAILURE(ExpectOneCommitPerEpoch(after));
  }
  ASSERT_NO_FATAL_FAILURE(ExpectBobGoesOn());
}

}  // namespace
}  // namespace artd::testing
