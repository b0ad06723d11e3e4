// The PostgreSQL server stopped (fast shutdown) and started again under load, with three replicas
// on it: meanwhile every call fails UNAVAILABLE; then the replicas recover by themselves, without a
// restart, and nothing they acknowledged is lost.
//
// It stops the server named by ARTD_TEST_POSTGRES_URL, so it runs alone (tag "exclusive") and starts
// the server again whatever happens (PostgresCluster). Skips without the variable, or when the
// server's cluster cannot be controlled from here.
#include "tests/process/postgres_process_test.h"

namespace artd::testing {
namespace {

constexpr int kReplicas = 3;
constexpr int kGroups = 2;
// How long the replicas may take to notice the database is back: they need no more than a call.
constexpr absl::Duration kRecoveryTimeout = absl::Seconds(10);

// Calls |client| until it answers a ListCommits of |group_id|; the last failure after |timeout|.
absl::Status AwaitAnswer(const TenantClient& client, const std::string& group_id, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(5);
  for (;;) {
    absl::Status answered = ListCommits(client, group_id, 0).status();
    if (answered.ok() || absl::Now() + backoff > deadline) return answered;
    absl::SleepFor(backoff);  // A remote condition: polled, backing off.
    backoff = std::min(backoff * 2, absl::Milliseconds(200));
  }
}

using PostgresRestartTest = PostgresProcessTest;

TEST_F(PostgresRestartTest, DatabaseRestartedUnderLoad) {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Find(PostgresServerUrl());
  if (cluster.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << "cannot stop and start the server " << kPostgresServerVariable
                 << " names: " << cluster.status();
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
    EXPECT_EQ(FetchBundle(client, groups_[0].seats[1].member_id()).status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(CommitUpdate(client, groups_[0].seats[1]).status().code(), absl::StatusCode::kUnavailable);
  }

  ART_ASSERT_OK((*cluster)->Start());
  // The same replica processes answer again once the server is back.
  for (size_t r = 0; r < clients_.size(); ++r) {
    ART_ASSERT_OK(AwaitAnswer(*clients_[r], groups_[0].id, kRecoveryTimeout));
  }
  ASSERT_NO_FATAL_FAILURE(EndWriters(*clients_[0]));
  for (size_t r = 0; r < clients_.size(); ++r) {
    SCOPED_TRACE(absl::StrCat("through replica ", r));
    ASSERT_NO_FATAL_FAILURE(CheckNothingLost(*clients_[r]));
  }

  // Writes succeed again through every replica, and the groups go on.
  ASSERT_NO_FATAL_FAILURE(StartWriters(/*fail_over=*/false));
  ASSERT_NO_FATAL_FAILURE(AwaitMoreProgress(30, 10, absl::Seconds(20)));
  ASSERT_NO_FATAL_FAILURE(EndWriters(*clients_[1]));
  for (const WrittenGroup& group : groups_) {
    EXPECT_TRUE(group.writer->end_status().ok()) << group.id << ": " << group.writer->end_status();
  }
  ASSERT_NO_FATAL_FAILURE(CheckNothingLost(*clients_[2]));
  ASSERT_NO_FATAL_FAILURE(CheckReadersReadEverything(*clients_[0]));
}

}  // namespace
}  // namespace artd::testing
