// A server killed with SIGKILL in the middle of a stream of writes: whatever it acknowledged before
// it died must be in the database when a new server starts on it, and the group must go on.
#include "tests/process/acknowledged_writer.h"
#include "tests/process/process_test.h"

namespace artd::testing {
namespace {

using CrashTest = ProcessTest;

constexpr int kCrashes = 2;

TEST_F(CrashTest, KillDashNineLosesNothingAcknowledged) {
  ART_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtdProcess> server, StartServer());
  std::unique_ptr<TenantClient> client = Connect(*server);
  ART_ASSERT_OK_AND_ASSIGN(std::vector<Seat> seats,
                           CreateGroupOf({client.get()}, {"writer", "reader-1", "reader-2"}, "crashing"));
  Acknowledged all;
  for (int crash = 0; crash < kCrashes; ++crash) {
    AcknowledgedWriter writer(client.get(), &seats[0], /*messages_per_commit=*/2);
    writer.Start();
    // Kill once the stream is well under way, while the writer is still writing.
    ASSERT_TRUE(writer.AwaitProgress(20, 8, absl::Seconds(20))) << writer.end_status();
    ART_ASSERT_OK(server->KillDashNine());
    ASSERT_TRUE(writer.AwaitEnd(kCallTimeout + absl::Seconds(5)));
    EXPECT_EQ(writer.end_status().code(), absl::StatusCode::kUnavailable) << writer.end_status();

    ART_ASSERT_OK_AND_ASSIGN(server, StartServer());
    client = Connect(*server);
    ART_ASSERT_OK(CheckAcknowledgedStored(*client, "crashing", writer.acknowledged()));
    // The commit in flight at the kill may have been stored without its acknowledgement.
    ART_ASSERT_OK(writer.Recover(*client));
    all.messages.insert(writer.acknowledged().messages.begin(), writer.acknowledged().messages.end());
    all.commits.insert(writer.acknowledged().commits.begin(), writer.acknowledged().commits.end());
  }
  // Nothing acknowledged before an earlier crash went missing later either.
  ART_ASSERT_OK(CheckAcknowledgedStored(*client, "crashing", all));
  // The readers, still at epoch 0, read the whole log in order and decrypt every message.
  for (size_t reader = 1; reader < seats.size(); ++reader) {
    ART_ASSERT_OK(ReadEverything(*client, seats[reader].state(), all));
  }

  // The group goes on: a new commit wins, and everyone agrees on the epoch it creates.
  ART_ASSERT_OK_AND_ASSIGN(uint64_t epoch, CommitUpdate(*client, seats[1]));
  for (Seat& seat : seats) {
    ART_ASSERT_OK(CatchUp(*client, seat.state()));
    EXPECT_EQ(seat.state().epoch(), epoch);
    EXPECT_EQ(seat.state().epoch_authenticator(), seats[1].state().epoch_authenticator()) << seat.member_id();
  }
}

}  // namespace
}  // namespace artd::testing
