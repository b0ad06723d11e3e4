// Three `artd serve` replicas on one PostgreSQL database, as a deployment behind a load balancer
// runs them: the database alone keeps one winner per epoch and hands each one-time prekey out once,
// and a replica killed under load loses nothing it acknowledged while clients carry on through the
// others. Needs ARTD_TEST_POSTGRES_URL (see postgres_server.h); skips without it.
#include "tests/process/contended_group.h"
#include "tests/process/postgres_process_test.h"

namespace artd::testing {
namespace {

constexpr int kReplicas = 3;

class PostgresReplicasTest : public PostgresProcessTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(PostgresProcessTest::SetUp());
    if (IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(StartReplicas(kReplicas));
  }
};

TEST_F(PostgresReplicasTest, ThreeReplicasOnePostgres) {
  Contention contention;
  contention.members = 8;
  contention.updates_per_member = 4;
  contention.bundle_fetchers = 6;
  contention.fetches_per_fetcher = 40;
  ASSERT_NO_FATAL_FAILURE(RunContendedGroup(Clients(), "contended", contention));
}

TEST_F(PostgresReplicasTest, KillOneReplicaUnderLoad) {
  constexpr int kKilled = 1;
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

}  // namespace
}  // namespace artd::testing
