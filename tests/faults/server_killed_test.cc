// The server killed (SIGKILL) under load: whatever it acknowledged before it died is in the database
// when a server runs on it again, every group keeps one history, and the clients carry on by
// themselves once a server answers.
//
// - SQLite: the only server killed in the middle of a stream of writes, twice, and started again.
// - PostgreSQL, three replicas: one killed while the clients carry on through the other two; and all
//   three killed, then started again on their ports, where the clients' channels find them again.
//   Skips without ARTD_TEST_POSTGRES_URL.
#include "absl/strings/str_cat.h"
#include "tests/faults/fault_helpers.h"
#include "tests/process/postgres_process_test.h"

namespace artd::testing {
namespace {

constexpr int kReplicas = 3;
// How long a restarted server may take to be found again by a client that called its predecessor.
constexpr absl::Duration kReconnectTimeout = absl::Seconds(15);

using SqliteServerKilledTest = ProcessTest;

TEST_F(SqliteServerKilledTest, KillDashNineUnderLoadLosesNothingAcknowledged) {
  constexpr int kCrashes = 2;
  ART_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtdProcess> server, StartServer());
  std::unique_ptr<TenantClient> client = Connect(*server);
  ART_ASSERT_OK_AND_ASSIGN(std::vector<Seat> seats,
                           CreateGroupOf({client.get()}, {"writer", "reader-1", "reader-2"}, "crashing"));
  // An acknowledged prekey upload, one prekey to take after each crash.
  ART_ASSERT_OK(NewMember(*client, "uploader", /*one_time_prekeys=*/kCrashes).status());
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
    ART_ASSERT_OK(TakeOneTimePrekey(*client, "uploader"));
    // The commit in flight at the kill may have been stored without its acknowledgement.
    ART_ASSERT_OK(writer.Recover(*client));
    all.Add(writer.acknowledged());
  }
  // Nothing acknowledged before an earlier crash went missing later either, the database is intact,
  // and the readers, still at epoch 0, read the whole log in order and end where the writer is.
  ART_ASSERT_OK(CheckSqliteIntegrity(database_));
  for (size_t reader = 1; reader < seats.size(); ++reader) {
    ART_ASSERT_OK(CheckOneHistory(*client, seats[0], seats[reader], all));
  }

  // The group goes on: a new commit wins, and everyone agrees on the epoch it creates.
  ART_ASSERT_OK_AND_ASSIGN(uint64_t epoch, CommitUpdate(*client, seats[1]));
  for (Seat& seat : seats) {
    ART_ASSERT_OK(CatchUp(*client, seat.state()));
    EXPECT_EQ(seat.state().epoch(), epoch);
    EXPECT_EQ(seat.state().epoch_authenticator(), seats[1].state().epoch_authenticator()) << seat.member_id();
  }
}

using PostgresServerKilledTest = PostgresProcessTest;

TEST_F(PostgresServerKilledTest, OneReplicaKilledUnderLoad) {
  constexpr int kKilled = 1;
  ASSERT_NO_FATAL_FAILURE(StartReplicas(kReplicas));
  ASSERT_NO_FATAL_FAILURE(CreateWrittenGroups(kReplicas));
  ASSERT_NO_FATAL_FAILURE(StartWriters(/*fail_over=*/true));
  ASSERT_NO_FATAL_FAILURE(AwaitMoreProgress(30, 10, absl::Seconds(20)));

  ART_ASSERT_OK(replicas_[kKilled]->KillDashNine());
  // The writers carry on through the two replicas left.
  ASSERT_NO_FATAL_FAILURE(AwaitMoreProgress(30, 10, absl::Seconds(20)));
  ASSERT_NO_FATAL_FAILURE(EndWriters(*clients_[0]));
  for (const WrittenGroup& group : groups_) {
    EXPECT_TRUE(group.writer->end_status().ok()) << group.id << ": " << group.writer->end_status();
    // Each writer sent at least one call to the dead replica, which failed UNAVAILABLE, and none to
    // the others failed.
    EXPECT_FALSE(group.writer->failed_over().empty()) << group.id << " never called the killed replica";
    for (const AcknowledgedWriter::FailedOver& failed : group.writer->failed_over()) {
      EXPECT_EQ(failed.client, clients_[kKilled].get()) << group.id << ": " << failed.status;
      EXPECT_EQ(failed.status.code(), absl::StatusCode::kUnavailable) << group.id << ": " << failed.status;
    }
  }
  // Whichever survivor is asked, nothing acknowledged (by any replica, the dead one too) is missing.
  for (int survivor : {0, 2}) {
    SCOPED_TRACE(absl::StrCat("through replica ", survivor));
    ASSERT_NO_FATAL_FAILURE(CheckNothingLost(*clients_[survivor]));
  }
  ASSERT_NO_FATAL_FAILURE(CheckReadersReadEverything(*clients_[2]));
}

TEST_F(PostgresServerKilledTest, AllReplicasKilledAndRestartedUnderLoad) {
  ASSERT_NO_FATAL_FAILURE(StartReplicas(kReplicas));
  ASSERT_NO_FATAL_FAILURE(CreateWrittenGroups(kReplicas));
  // An acknowledged prekey upload, through each replica.
  for (size_t r = 0; r < clients_.size(); ++r) {
    ART_ASSERT_OK(NewMember(*clients_[r], absl::StrCat("uploader-", r), /*one_time_prekeys=*/1).status());
  }
  ASSERT_NO_FATAL_FAILURE(StartWriters(/*fail_over=*/false));
  ASSERT_NO_FATAL_FAILURE(AwaitMoreProgress(30, 10, absl::Seconds(20)));

  // One after the other, while the writers write: each writer ends at its first call to a dead one.
  std::vector<int> ports;
  for (std::unique_ptr<ArtdProcess>& replica : replicas_) {
    ports.push_back(replica->port());
    ART_ASSERT_OK(replica->KillDashNine());
  }
  for (WrittenGroup& group : groups_) {
    ASSERT_TRUE(group.writer->AwaitEnd(kCallTimeout + absl::Seconds(5))) << group.id;
    EXPECT_EQ(group.writer->end_status().code(), absl::StatusCode::kUnavailable)
        << group.id << ": " << group.writer->end_status();
  }

  // New replicas on the same ports, as a deployment restarts them behind its address: the clients'
  // channels find them again by themselves.
  for (size_t r = 0; r < replicas_.size(); ++r) {
    ArtdProcess::Options options;
    options.listen_address = absl::StrCat("127.0.0.1:", ports[r]);
    ART_ASSERT_OK_AND_ASSIGN(replicas_[r], StartServerWith(options));
  }
  for (size_t r = 0; r < clients_.size(); ++r) {
    SCOPED_TRACE(absl::StrCat("through replica ", r, " on port ", ports[r]));
    ART_ASSERT_OK(AwaitOk([&] { return ListCommits(*clients_[r], groups_[0].id, 0).status(); }, kReconnectTimeout));
  }
  ASSERT_NO_FATAL_FAILURE(EndWriters(*clients_[0]));
  for (size_t r = 0; r < clients_.size(); ++r) {
    SCOPED_TRACE(absl::StrCat("through replica ", r));
    ASSERT_NO_FATAL_FAILURE(CheckNothingLost(*clients_[r]));
    ART_ASSERT_OK(TakeOneTimePrekey(*clients_[r], absl::StrCat("uploader-", (r + 1) % clients_.size())));
  }

  ASSERT_NO_FATAL_FAILURE(CheckGroupsGoOn());
}

}  // namespace
}  // namespace artd::testing
