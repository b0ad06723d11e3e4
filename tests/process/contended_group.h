// Replicas racing for one group: several members commit updates to the same group at once, each
// sending its requests to the servers in turn, while others take one-time prekeys through them all.
// Whatever the servers share (one SQLite file, one PostgreSQL database), the outcome must be that of
// one server: one winner per epoch, one log, and each one-time prekey handed out once.
#ifndef TESTS_PROCESS_CONTENDED_GROUP_H_
#define TESTS_PROCESS_CONTENDED_GROUP_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/process/group_client.h"

namespace artd::testing {

struct Contention {
  int members = 6;
  int updates_per_member = 5;
  int one_time_prekeys = 200;
  int bundle_fetchers = 4;
  int fetches_per_fetcher = 60;  // Fetchers * fetches > prekeys: the last fetches fall back.
  absl::Duration time_limit = absl::Seconds(40);
};

// Runs |contention| through |clients| (one per server) on a new group |group_id|, and checks with
// gtest assertions: every SubmitCommit is acknowledged or ABORTED "current epoch"; exactly one commit
// is acknowledged for each epoch 1..N; every server lists exactly those commits; every member,
// caught up, agrees on the epoch authenticator; no one-time prekey is handed out twice and none is
// left. Call it within ASSERT_NO_FATAL_FAILURE.
void RunContendedGroup(const std::vector<TenantClient*>& clients, const std::string& group_id,
                       const Contention& contention);

}  // namespace artd::testing

#endif  // TESTS_PROCESS_CONTENDED_GROUP_H_
