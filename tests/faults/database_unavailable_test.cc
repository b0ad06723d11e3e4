// The database unavailable for a while under load, then back: meanwhile the calls it would serve fail
// UNAVAILABLE (the status clients retry); afterwards the same server processes serve again, without a
// restart or an operator, and nothing they acknowledged is lost.
//
// - PostgreSQL: the server stopped (fast shutdown) and started again under three replicas. It stops
//   the server ARTD_TEST_POSTGRES_URL names, so this target runs alone (tag "exclusive"), outside the
//   sandbox (whose PID namespace would take the restarted server down with the test), and starts the
//   server again whatever happens (PostgresCluster). Skips without the variable, or when the server's
//   cluster cannot be controlled from here.
// - SQLite: another process holds the database's write lock (BEGIN EXCLUSIVE) for longer than the
//   server's busy timeout. Readers go on (WAL); writes fail UNAVAILABLE until it lets go.
#include "absl/strings/str_cat.h"
#include "tests/faults/fault_helpers.h"
#include "tests/process/postgres_process_test.h"

namespace artd::testing {
namespace {

constexpr int kReplicas = 3;
constexpr int kGroups = 2;
// How long the servers may take to notice the database is back: they need no more than a call.
constexpr absl::Duration kRecoveryTimeout = absl::Seconds(10);

using PostgresUnavailableTest = PostgresProcessTest;

TEST_F(PostgresUnavailableTest, DatabaseRestartedUnderLoad) {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Find(PostgresServerUrl());
  if (cluster.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << "cannot stop and start the server " << kPostgresServerVariable << " names: " << cluster.status();
  }
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_NO_FATAL_FAILURE(StartReplicas(kReplicas));
  ASSERT_NO_FATAL_FAILURE(CreateWrittenGroups(kGroups));
  ASSERT_NO_FATAL_FAILURE(StartWriters(/*fail_over=*/false));
  ASSERT_NO_FATAL_FAILURE(AwaitMoreProgress(30, 10, absl::Seconds(20)));

  ART_ASSERT_OK((*cluster)->Stop());
  // Each writer's next call fails, UNAVAILABLE whatever it was doing when the server went.
  for (WrittenGroup& group : groups_) {
    ASSERT_TRUE(group.writer->AwaitEnd(kCallTimeout + absl::Seconds(5))) << group.id;
    EXPECT_EQ(group.writer->end_status().code(), absl::StatusCode::kUnavailable)
        << group.id << ": " << group.writer->end_status();
  }
  // So does every replica, for reads and writes alike, while the server is down.
  for (size_t r = 0; r < clients_.size(); ++r) {
    SCOPED_TRACE(absl::StrCat("replica ", r));
    const TenantClient& client = *clients_[r];
    EXPECT_EQ(ListCommits(client, groups_[0].id, 0).status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(FetchPrekeyBundle(client, groups_[0].seats[1].member_id()).status().code(),
              absl::StatusCode::kUnavailable);
    EXPECT_EQ(CommitUpdate(client, groups_[0].seats[1]).status().code(), absl::StatusCode::kUnavailable);
  }

  ART_ASSERT_OK((*cluster)->Start());
  // The same replica processes answer again once the server is back.
  for (size_t r = 0; r < clients_.size(); ++r) {
    ART_ASSERT_OK(AwaitOk([&] { return ListCommits(*clients_[r], groups_[0].id, 0).status(); }, kRecoveryTimeout));
  }
  ASSERT_NO_FATAL_FAILURE(EndWriters(*clients_[0]));
  for (size_t r = 0; r < clients_.size(); ++r) {
    SCOPED_TRACE(absl::StrCat("through replica ", r));
    ASSERT_NO_FATAL_FAILURE(CheckNothingLost(*clients_[r]));
  }
  ASSERT_NO_FATAL_FAILURE(CheckGroupsGoOn());
}

using SqliteUnavailableTest = ProcessTest;

TEST_F(SqliteUnavailableTest, WriteLockHeldByAnotherProcessUnderLoad) {
  ART_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtdProcess> server, StartServer());
  std::unique_ptr<TenantClient> client = Connect(*server);
  ART_ASSERT_OK_AND_ASSIGN(std::vector<Seat> seats, CreateGroupOf({client.get()}, {"writer", "reader"}, "locked"));
  ART_ASSERT_OK(NewMember(*client, "uploader", /*one_time_prekeys=*/1).status());  // An acknowledged upload.
  Acknowledged all;

  std::unique_ptr<SqliteWriteLock> lock;
  {
    AcknowledgedWriter writer(client.get(), &seats[0], /*messages_per_commit=*/2);
    writer.Start();
    ASSERT_TRUE(writer.AwaitProgress(20, 6, absl::Seconds(20))) << writer.end_status();
    // Taken between two of the server's transactions; the writer's next write waits out the server's
    // busy timeout and fails.
    ART_ASSERT_OK_AND_ASSIGN(lock, SqliteWriteLock::Acquire(database_));
    ASSERT_TRUE(writer.AwaitEnd(kCallTimeout + absl::Seconds(5)));
    EXPECT_EQ(writer.end_status().code(), absl::StatusCode::kUnavailable) << writer.end_status();
    // Reads go on meanwhile: the commit in flight is settled from the log, and everything
    // acknowledged so far is there.
    ART_ASSERT_OK(writer.Recover(*client));
    all.Add(writer.acknowledged());
  }
  ART_ASSERT_OK(CheckAcknowledgedStored(*client, "locked", all));
  // Other kinds of write fail the same way.
  EXPECT_EQ(NewMember(*client, "while-locked").status().code(), absl::StatusCode::kUnavailable);

  // Once the lock is gone the same server writes again, by itself, and nothing acknowledged is lost.
  ART_ASSERT_OK(lock->Release());
  ART_ASSERT_OK(CheckWritesResume(*client, seats[0], seats[1], all, "uploader", kRecoveryTimeout));
  ART_ASSERT_OK(CheckSqliteIntegrity(database_));
}

}  // namespace
}  // namespace artd::testing
