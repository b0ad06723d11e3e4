// artd_cli end to end: a real artd server, and every member a state directory driven by separate
// artd_cli processes, so that no two members (nor two commands of one member) share a process.
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/cli/cli_test_fixture.h"

namespace artd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A group "team" of alice (its creator) and |others|, every one of them joined.
class CliGroupTest : public CliTest {
 protected:
  void CreateTeam(const std::vector<std::string>& others) {
    std::vector<std::string> everyone = {"alice"};
    everyone.insert(everyone.end(), others.begin(), others.end());
    RegisterAll(everyone);
    std::vector<std::string> create = {"create", "team"};
    create.insert(create.end(), others.begin(), others.end());
    Ok("alice", create);
    for (const std::string& other : others) Ok(other, {"join", "team"});
  }
};

TEST_F(CliGroupTest, MembersNeverOnlineTogetherShareEachEpochsKey) {
  // Bob and Carol registered earlier; Alice comes later and creates the group while both are away.
  RegisterAll({"bob", "carol", "alice"});
  const CliResult created = Run("alice", {"create", "team", "bob", "carol"});
  ASSERT_EQ(created.exit_code, 0) << created.Describe();
  EXPECT_THAT(created.out, HasSubstr("team: epoch 0, 3 members"));
  EXPECT_THAT(created.err, HasSubstr("fetching bundles 2/2"));

  // Only Bob's process runs now.
  Ok("bob", {"join", "team"});
  EXPECT_THAT(Receive("bob", "team"), IsEmpty());
  Ok("bob", {"send", "team", "hello from bob"});  // Updates first (double-join hygiene): epoch 1.
  EXPECT_THAT(Receive("alice", "team"), ElementsAre("bob: hello from bob"));
  for (int i = 0; i < 3; ++i) Ok("alice", {"update", "team"});
  Ok("bob", {"update", "team"});

  // Carol joins much later, from the Setup, across every epoch since.
  Ok("carol", {"join", "team"});
  const Shown shown = ExpectAgree("team", {"alice", "bob", "carol"});
  EXPECT_EQ(shown.epoch, 5u);
  EXPECT_EQ(shown.members, "alice bob carol");
  Ok("carol", {"send", "team", "carol here"});
  EXPECT_THAT(Receive("alice", "team"), ElementsAre("carol: carol here"));
  EXPECT_THAT(Receive("bob", "team"), ElementsAre("carol: carol here"));
  EXPECT_THAT(Receive("bob", "team"), IsEmpty());  // Nothing is read twice.
  EXPECT_EQ(Ok("carol", {"groups"}), "team\n");
}

TEST_F(CliGroupTest, OfflineMemberCatchesUpAcrossManyEpochs) {
  CreateTeam({"bob", "carol"});
  // Bob is away for twenty epochs of Alice's and Carol's updates.
  for (int i = 0; i < 20; ++i) Ok(i % 2 == 0 ? "alice" : "carol", {"update", "team"});
  Ok("alice", {"send", "team", "twenty epochs later"});
  // Bob's stored state is still at the Setup's epoch until he comes online.
  EXPECT_THAT(Ok("bob", {"show", "team", "--no-fetch"}), HasSubstr("\nepoch 0\n"));
  EXPECT_THAT(Receive("bob", "team"), ElementsAre("alice: twenty epochs later"));
  EXPECT_GE(ExpectAgree("team", {"alice", "bob", "carol"}).epoch, 20u);
}

TEST_F(CliGroupTest, TwoConcurrentCommitsBothSucceedInSomeOrder) {
  CreateTeam({"bob", "carol"});
  const uint64_t before = ExpectAgree("team", {"alice", "bob", "carol"}).epoch;
  // Started together, both commit for the same epoch: one loses the race, catches up and retries.
  std::unique_ptr<CliProcess> alice = Start("alice", {"update", "team"});
  std::unique_ptr<CliProcess> bob = Start("bob", {"update", "team"});
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(bob, nullptr);
  for (CliProcess* process : {alice.get(), bob.get()}) {
    absl::StatusOr<CliResult> result = process->Wait(kCommandTimeout);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_code, 0) << result->Describe();
  }
  EXPECT_EQ(ExpectAgree("team", {"alice", "bob", "carol"}).epoch, before + 2);
}

TEST_F(CliGroupTest, AddedMemberJoinsByWelcomeAndRemovedMemberReadsNothingNew) {
  CreateTeam({"bob", "carol"});
  RegisterAll({"dave"});
  Ok("alice", {"add", "team", "dave"});
  EXPECT_THAT(Ok("dave", {"accept-welcomes"}), HasSubstr("team: epoch"));
  ExpectAgree("team", {"alice", "bob", "carol", "dave"});

  Ok("bob", {"remove", "team", "carol"});
  Ok("alice", {"send", "team", "carol is gone"});
  EXPECT_THAT(Receive("dave", "team"), ElementsAre("alice: carol is gone"));
  // Carol learns of her removal; the message is beyond her either way (an empty read or an error).
  const CliResult carol = Run("carol", {"receive", "team"});
  EXPECT_THAT(carol.out, Not(HasSubstr("carol is gone"))) << carol.Describe();
  if (carol.exit_code != 0) {
    EXPECT_THAT(carol.err, HasSubstr("artd_cli: receive team: ")) << carol.Describe();
  }
  const Shown shown = ExpectAgree("team", {"alice", "bob", "dave"});
  EXPECT_EQ(shown.members, "alice bob dave");

  // Dave asks to leave; the next member to read commits his removal.
  Ok("dave", {"leave", "team"});
  // Bob reads Alice's message; Dave's request is no application message: it makes Bob commit.
  EXPECT_THAT(Receive("bob", "team"), ElementsAre("alice: carol is gone"));
  EXPECT_EQ(ExpectAgree("team", {"alice", "bob"}).members, "alice bob");
}

TEST_F(CliGroupTest, StateSurvivesKillDashNineInTheMiddleOfACommit) {
  CreateTeam({"bob"});
  const uint64_t before = ExpectAgree("team", {"alice", "bob"}).epoch;
  // Alice's commit is accepted by the service, then her process dies before saving its result.
  std::unique_ptr<CliProcess> alice =
      Start("alice", {"update", "team"}, {"ARTD_CLI_PAUSE_AT=after-submit-before-save"});
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(alice->AwaitStderr("paused at after-submit-before-save", kCommandTimeout).ok());
  ASSERT_TRUE(alice->KillDashNine().ok());

  // Her next process recovers the commit from the service and carries on.
  EXPECT_EQ(ExpectAgree("team", {"alice", "bob"}).epoch, before + 1);
  Ok("alice", {"send", "team", "still here"});  // May update first (Bob's leaf is still of her making).
  EXPECT_THAT(Receive("bob", "team"), ElementsAre("alice: still here"));
  const uint64_t sent = ExpectAgree("team", {"alice", "bob"}).epoch;
  Ok("bob", {"update", "team"});
  EXPECT_EQ(ExpectAgree("team", {"alice", "bob"}).epoch, sent + 1);
}

TEST_F(CliTest, ErrorsNameTheCommandAndExitNonZero) {
  RegisterAll({"alice"});
  const CliResult unknown = Run("alice", {"show", "no-such-group"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.err, HasSubstr("artd_cli: show no-such-group: NOT_FOUND")) << unknown.Describe();
  const CliResult again = Run("alice", {"register", "alice"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("artd_cli: register alice: ALREADY_EXISTS")) << again.Describe();
  const CliResult unregistered = Run("nobody", {"groups"});
  EXPECT_NE(unregistered.exit_code, 0);
  EXPECT_THAT(unregistered.err, HasSubstr("run register first")) << unregistered.Describe();
  EXPECT_EQ(Run("alice", {"add", "team"}).exit_code, 2);  // Usage: MEMBER is missing.
}

TEST_F(CliTest, StateKeyFromTheEnvironmentOrAPrivateKeyFile) {
  const std::string state_key = "ARTD_STATE_KEY=" + std::string(64, 'a');
  // With ARTD_STATE_KEY, no key file is written, and the state cannot be opened without the key.
  std::unique_ptr<CliProcess> registered = Start("alice", {"register", "alice"}, {state_key});
  ASSERT_NE(registered, nullptr);
  absl::StatusOr<CliResult> result = registered->Wait(kCommandTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->exit_code, 0) << result->Describe();
  EXPECT_THAT(Run("alice", {"groups"}).err, HasSubstr("no state key: set ARTD_STATE_KEY"));
  std::unique_ptr<CliProcess> listed = Start("alice", {"groups"}, {state_key});
  ASSERT_NE(listed, nullptr);
  result = listed->Wait(kCommandTimeout);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0) << result->Describe();

  // Without it, the key file is private to its owner, and refused once it is not.
  RegisterAll({"bob"});
  const std::string key_file = StateDir("bob") + "/state.key";
  struct stat info;
  ASSERT_EQ(stat(key_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(chmod(key_file.c_str(), 0644), 0);
  EXPECT_THAT(Run("bob", {"groups"}).err, HasSubstr("is accessible to other users"));
}

}  // namespace
}  // namespace artd::testing
