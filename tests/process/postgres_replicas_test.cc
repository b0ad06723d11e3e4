// Three `artd serve` replicas on one PostgreSQL database, as a deployment behind a load balancer
// runs them: the database alone keeps one winner per epoch and hands each one-time prekey out once.
// (Replicas killed under load: tests/faults/server_killed_test.) Needs ARTD_TEST_POSTGRES_URL (see
// postgres_server.h); skips without it.
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

}  // namespace
}  // namespace artd::testing
