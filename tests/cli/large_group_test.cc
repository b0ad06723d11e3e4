// A group of 1,000 through artd_cli: members registered in this process (the CLI's directory layout,
// through client/cli/member_dir.h, is what makes them usable by the CLI afterwards), one artd_cli
// process creating the group with progress output, then a few members joining, updating, sending
// and receiving, each through its own processes.
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/cli/cli_test_fixture.h"

namespace artd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kMembers = 1000;

std::string MemberName(int i) { return absl::StrCat("member-", i); }

TEST_F(CliTest, ThousandMemberGroupEndToEnd) {
  // Registration through the SDK in-process, a few members at a time, into the directories the
  // CLI uses: a thousand CLI processes would spend the time budget on process start-up alone.
  std::vector<std::string> dirs;
  for (int i = 0; i < kMembers; ++i) dirs.push_back(StateDir(MemberName(i)));
  absl::StatusOr<client::ClientOptions> options = client::cli::MakeClientOptions(
      Settings(), grpc::CreateChannel(Settings().target, grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(options.ok()) << options.status();
  options->one_time_prekeys = 1;  // The group's creator takes one; nobody else asks.
  const client::Certifier certify = Certify();
  constexpr int kThreads = 4;
  std::vector<absl::Status> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kMembers && failures[t].ok(); i += kThreads) {
        failures[t] = client::cli::MemberDir(dirs[i]).Register(*options, MemberName(i), certify, "").status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& failure : failures) ASSERT_TRUE(failure.ok()) << failure;

  // The creator lists its members in a file, as one would for a group this size.
  const std::string members_file = TempPath("members.txt");
  {
    std::vector<std::string> others;
    for (int i = 1; i < kMembers; ++i) others.push_back(MemberName(i));
    FILE* file = std::fopen(members_file.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs(absl::StrCat(absl::StrJoin(others, "\n"), "\n").c_str(), file);
    ASSERT_EQ(std::fclose(file), 0);
  }
  const CliResult created = Run(MemberName(0), {"create", "big", "--members-file", members_file});
  ASSERT_EQ(created.exit_code, 0) << created.Describe();
  EXPECT_THAT(created.out, HasSubstr("big: epoch 0, 1000 members"));
  EXPECT_THAT(created.err, HasSubstr("fetching bundles 999/999"));
  EXPECT_THAT(created.err, HasSubstr("submitting the group's setup"));

  const std::vector<std::string> joiners = {MemberName(1), MemberName(500), MemberName(999)};
  for (const std::string& joiner : joiners) Ok(joiner, {"join", "big"});
  Ok(MemberName(500), {"update", "big"});
  Ok(MemberName(999), {"send", "big", "hello, thousand"});  // Updates first (hygiene), then sends.
  EXPECT_THAT(Receive(MemberName(1), "big"), ElementsAre("member-999: hello, thousand"));
  EXPECT_THAT(Receive(MemberName(0), "big"), ElementsAre("member-999: hello, thousand"));
  const Shown shown = ExpectAgree("big", {MemberName(0), MemberName(1), MemberName(500), MemberName(999)});
  EXPECT_EQ(shown.epoch, 2u);
}

}  // namespace
}  // namespace artd::testing
