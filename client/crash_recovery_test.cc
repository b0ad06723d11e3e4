// A member's process that stops at each point of a commit (a child process that _exit(0)s there)
// is reopened from its file store and recovers without forking the group: it ends at the epoch and
// authenticator the others have, and commits again.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "art/crypto/bytes.h"
#include "client/testing/client_fixture.h"

namespace artd::client::testing {
namespace {

struct CrashCase {
  const char* point;
  uint64_t epoch_after;  // Whether the interrupted commit took effect.
};

class CrashRecoveryTest : public ClientTest, public ::testing::WithParamInterface<CrashCase> {
 protected:
  // Runs the committer binary for |member_id| and returns its exit status.
  int RunCommitter(const std::string& member_id, const std::string& group_id, const std::string& point) {
    const char* srcdir = std::getenv("TEST_SRCDIR");
    const char* workspace = std::getenv("TEST_WORKSPACE");
    const std::string binary = srcdir == nullptr ? "client/crash_committer"
                                                 : absl::StrCat(srcdir, "/", workspace != nullptr ? workspace : "artd",
                                                                "/client/crash_committer");
    const art::SecretBytes key = StateKey();
    std::vector<std::string> args = {binary,
                                     absl::StrCat("127.0.0.1:", harness_->server().port()),
                                     tenant_->api_key,
                                     tenant_->tenant_id,
                                     art::ToHex(tenant_->authority->credential_key().public_key()),
                                     member_id,
                                     StateDir(member_id),
                                     art::ToHex(key.span()),
                                     group_id,
                                     point};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t child = fork();
    if (child == 0) {
      execv(argv[0], argv.data());
      _exit(127);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

TEST_P(CrashRecoveryTest, TheReopenedMemberRecoversWithoutForkingTheGroup) {
  const CrashCase& crash = GetParam();
  auto alice = Register("alice");
  auto bob = Register("bob");
  auto carol = Register("carol");
  ASSERT_TRUE(alice->CreateGroup("g", {"bob", "carol"}).ok());
  ASSERT_TRUE(bob->JoinGroup("g").ok());
  ASSERT_TRUE(carol->JoinGroup("g").ok());

  // Bob's process dies in the middle of an update; this process holds none of his state meanwhile.
  bob.reset();
  ASSERT_EQ(RunCommitter("bob", "g", crash.point), 0);
  bob = Reopen("bob");
  EXPECT_EQ(ExpectAgree("g", {alice.get(), bob.get(), carol.get()}), crash.epoch_after);

  // He goes on: commits and messages work for everyone.
  ASSERT_TRUE(bob->Update("g").ok());
  ASSERT_TRUE(bob->Send("g", art::AsBytes("after the crash")).ok());
  absl::StatusOr<std::vector<ReceivedMessage>> received = alice->Receive("g");
  ASSERT_TRUE(received.ok()) << received.status();
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ(Text((*received)[0].content), "after the crash");
  EXPECT_EQ(ExpectAgree("g", {alice.get(), bob.get(), carol.get()}), crash.epoch_after + 1);
}

INSTANTIATE_TEST_SUITE_P(EachPoint, CrashRecoveryTest,
                         ::testing::Values(CrashCase{"before-submit", 0}, CrashCase{"after-submit-before-save", 1},
                                           CrashCase{"after-save", 1}),
                         [](const ::testing::TestParamInfo<CrashCase>& info) {
                           std::string name = info.param.point;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace artd::client::testing
