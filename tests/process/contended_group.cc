#include "tests/process/contended_group.h"

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace artd::testing {

void RunContendedGroup(const std::vector<TenantClient*>& clients, const std::string& group_id,
                       const Contention& contention) {
  const absl::Time deadline = absl::Now() + contention.time_limit;
  // Request n of member (or fetcher) m goes to server (m + n) % servers: every member uses them all.
  auto client_for = [&](int m, int n) -> TenantClient& { return *clients[(m + n) % clients.size()]; };

  std::vector<std::string> member_ids;
  for (int m = 0; m < contention.members; ++m) member_ids.push_back(absl::StrCat("m", m));
  absl::StatusOr<std::vector<Seat>> created = CreateGroupOf(clients, member_ids, group_id);
  ASSERT_TRUE(created.ok()) << created.status();
  std::vector<Seat>& seats = *created;
  absl::StatusOr<std::unique_ptr<art::testing::TestMember>> owner =
      NewMember(*clients.back(), "prekey-owner", contention.one_time_prekeys);
  ASSERT_TRUE(owner.ok()) << owner.status();

  std::mutex mu;
  std::map<uint64_t, std::string> winners;  // The commit acknowledged for each epoch.
  int aborted = 0;
  std::vector<uint32_t> handed_out;
  std::vector<std::thread> threads;
  for (int m = 0; m < contention.members; ++m) {
    threads.emplace_back([&, m] {
      art::MemberGroup& group = seats[m].state();
      int request = 0;
      for (int updates = 0; updates < contention.updates_per_member;) {
        if (absl::Now() > deadline) {
          ADD_FAILURE() << "member " << m << " ran out of time after " << updates << " updates";
          return;
        }
        absl::StatusOr<art::PendingCommit> pending = group.CreateUpdate();
        ASSERT_TRUE(pending.ok()) << pending.status();
        absl::StatusOr<uint64_t> epoch = SubmitCommit(client_for(m, request++), *seats[m].device, *pending);
        if (epoch.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          const bool first = winners.emplace(*epoch, pending->commit.SerializeAsString()).second;
          EXPECT_TRUE(first) << "two commits acknowledged for epoch " << *epoch;
          group.ApplyPendingCommit(*std::move(pending));
          ++updates;
          continue;
        }
        // Lost the race: told the current epoch; catch up (through the next server) and retry.
        ASSERT_EQ(epoch.status().code(), absl::StatusCode::kAborted) << epoch.status();
        EXPECT_THAT(std::string(epoch.status().message()), ::testing::HasSubstr("current epoch"));
        {
          std::lock_guard<std::mutex> lock(mu);
          ++aborted;
        }
        absl::Status caught_up = CatchUp(client_for(m, request++), group);
        ASSERT_TRUE(caught_up.ok()) << caught_up;
      }
    });
  }
  for (int f = 0; f < contention.bundle_fetchers; ++f) {
    threads.emplace_back([&, f] {
      for (int n = 0; n < contention.fetches_per_fetcher; ++n) {
        absl::StatusOr<v1::PrekeyBundle> bundle = FetchPrekeyBundle(client_for(f, n), (*owner)->member_id());
        ASSERT_TRUE(bundle.ok()) << bundle.status();
        if (!bundle->has_one_time_prekey()) continue;
        std::lock_guard<std::mutex> lock(mu);
        handed_out.push_back(bundle->one_time_prekey().prekey_id());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_FALSE(::testing::Test::HasFailure());

  // One winner for each of epochs 1..N, and no epoch beyond.
  const uint64_t epochs = static_cast<uint64_t>(contention.members) * contention.updates_per_member;
  ASSERT_EQ(winners.size(), epochs);
  EXPECT_EQ(winners.begin()->first, 1u);
  EXPECT_EQ(winners.rbegin()->first, epochs);
  ::testing::Test::RecordProperty("aborted_commits", aborted);

  // Every server lists the same log: epochs 1..N without gaps or forks, each the acknowledged commit.
  for (size_t s = 0; s < clients.size(); ++s) {
    absl::StatusOr<std::vector<v1::Commit>> commits = ListCommits(*clients[s], group_id, 0);
    ASSERT_TRUE(commits.ok()) << "server " << s << ": " << commits.status();
    ASSERT_EQ(commits->size(), epochs) << "server " << s;
    for (uint64_t i = 0; i < epochs; ++i) {
      EXPECT_EQ((*commits)[i].epoch(), i) << "server " << s;
      EXPECT_EQ((*commits)[i].SerializeAsString(), winners[i + 1])
          << "server " << s << ", the commit creating epoch " << i + 1;
    }
  }
  // Every member has processed every commit it did not make and agrees with the others.
  for (int m = 0; m < contention.members; ++m) {
    absl::Status caught_up = CatchUp(client_for(m, 0), seats[m].state());
    ASSERT_TRUE(caught_up.ok()) << "member " << m << ": " << caught_up;
    EXPECT_EQ(seats[m].state().epoch(), epochs);
    EXPECT_EQ(seats[m].state().epoch_authenticator(), seats[0].state().epoch_authenticator()) << "member " << m;
  }

  // Each one-time prekey was handed out exactly once, whichever server handed it out.
  EXPECT_EQ(handed_out.size(), static_cast<size_t>(contention.one_time_prekeys));
  EXPECT_EQ(std::set<uint32_t>(handed_out.begin(), handed_out.end()).size(), handed_out.size())
      << "a one-time prekey was handed out twice";
}

}  // namespace artd::testing
