// Two `artd serve` processes on one SQLite file, as two replicas behind a load balancer: the database
// alone must keep one winner per epoch and hand out each one-time prekey once, since neither
// process's in-memory locks reach the other.
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>

#include "tests/process/process_test.h"

namespace artd::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kMembers = 6;
constexpr int kUpdatesPerMember = 5;
constexpr int kOneTimePrekeys = 200;
constexpr int kBundleFetchers = 4;
constexpr int kFetchesPerFetcher = 60;  // More than the prekeys: the last fetches fall back.

class TwoServersTest : public ProcessTest {
 protected:
  void SetUp() override {
    ProcessTest::SetUp();
    for (int i = 0; i < 2; ++i) {
      ART_ASSERT_OK_AND_ASSIGN(servers_[i], StartServer());
      clients_[i] = Connect(*servers_[i]);
    }
  }

  // Request |n| of a member goes to server (member + n) % 2: every member uses both, in turn.
  ArtdClient& ClientFor(int member, int n) { return *clients_[(member + n) % 2]; }

  std::unique_ptr<ArtdProcess> servers_[2];
  std::unique_ptr<ArtdClient> clients_[2];
};

TEST_F(TwoServersTest, TwoServersOneDatabase) {
  const absl::Time deadline = absl::Now() + absl::Seconds(40);
  ART_ASSERT_OK_AND_ASSIGN(std::vector<Seat> seats,
                           CreateGroupOf({clients_[0].get(), clients_[1].get()},
                                         {"m0", "m1", "m2", "m3", "m4", "m5"}, "contended"));
  ASSERT_EQ(seats.size(), static_cast<size_t>(kMembers));
  ART_ASSERT_OK_AND_ASSIGN(std::unique_ptr<art::testing::TestMember> owner,
                           clients_[1]->NewMember("prekey-owner", kOneTimePrekeys));

  std::mutex mu;
  std::map<uint64_t, std::string> winners;  // The commit acknowledged for each epoch.
  int aborted = 0;
  std::vector<uint32_t> handed_out;
  std::vector<std::thread> threads;
  for (int m = 0; m < kMembers; ++m) {
    threads.emplace_back([&, m] {
      art::MemberGroup& group = seats[m].state();
      int request = 0;
      for (int updates = 0; updates < kUpdatesPerMember;) {
        if (absl::Now() > deadline) {
          ADD_FAILURE() << "member " << m << " ran out of time after " << updates << " updates";
          return;
        }
        absl::StatusOr<art::PendingCommit> pending = group.CreateUpdate();
        ASSERT_TRUE(pending.ok()) << pending.status();
        absl::StatusOr<uint64_t> epoch = SubmitCommit(ClientFor(m, request++), *seats[m].device, *pending);
        if (epoch.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          const bool first = winners.emplace(*epoch, pending->commit.SerializeAsString()).second;
          EXPECT_TRUE(first) << "two commits acknowledged for epoch " << *epoch;
          group.ApplyPendingCommit(*std::move(pending));
          ++updates;
          continue;
        }
        // Lost the race: told the current epoch; catch up (through the other server) and retry.
        ASSERT_EQ(epoch.status().code(), absl::StatusCode::kAborted) << epoch.status();
        EXPECT_THAT(std::string(epoch.status().message()), HasSubstr("current epoch"));
        {
          std::lock_guard<std::mutex> lock(mu);
          ++aborted;
        }
        absl::Status caught_up = CatchUp(ClientFor(m, request++), group);
        ASSERT_TRUE(caught_up.ok()) << caught_up;
      }
    });
  }
  for (int f = 0; f < kBundleFetchers; ++f) {
    threads.emplace_back([&, f] {
      for (int n = 0; n < kFetchesPerFetcher; ++n) {
        absl::StatusOr<v1::PrekeyBundle> bundle = FetchBundle(ClientFor(f, n), owner->member_id());
        ASSERT_TRUE(bundle.ok()) << bundle.status();
        if (!bundle->has_one_time_prekey()) continue;
        std::lock_guard<std::mutex> lock(mu);
        handed_out.push_back(bundle->one_time_prekey().prekey_id());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_FALSE(HasFailure());

  // One winner for each of epochs 1..N, and no epoch beyond.
  constexpr uint64_t kEpochs = kMembers * kUpdatesPerMember;
  ASSERT_EQ(winners.size(), kEpochs);
  EXPECT_EQ(winners.begin()->first, 1u);
  EXPECT_EQ(winners.rbegin()->first, kEpochs);
  RecordProperty("aborted_commits", aborted);

  // Both servers list the same log: epochs 1..N without gaps or forks, each the acknowledged commit.
  for (const std::unique_ptr<ArtdClient>& client : clients_) {
    ART_ASSERT_OK_AND_ASSIGN(std::vector<v1::Commit> commits, ListCommits(*client, "contended", 0));
    ASSERT_EQ(commits.size(), kEpochs);
    for (uint64_t i = 0; i < kEpochs; ++i) {
      EXPECT_EQ(commits[i].epoch(), i);
      EXPECT_EQ(commits[i].SerializeAsString(), winners[i + 1]) << "the commit creating epoch " << i + 1;
    }
  }
  // Every member has processed every commit it did not make and agrees with the others.
  for (int m = 0; m < kMembers; ++m) {
    ART_ASSERT_OK(CatchUp(ClientFor(m, 0), seats[m].state()));
    EXPECT_EQ(seats[m].state().epoch(), kEpochs);
    EXPECT_EQ(seats[m].state().epoch_authenticator(), seats[0].state().epoch_authenticator()) << "member " << m;
  }

  // Each one-time prekey was handed out exactly once, whichever server handed it out.
  EXPECT_EQ(handed_out.size(), static_cast<size_t>(kOneTimePrekeys));
  EXPECT_EQ(std::set<uint32_t>(handed_out.begin(), handed_out.end()).size(), static_cast<size_t>(kOneTimePrekeys));
}

// Replay protection must live in the database too: a nonce one server accepted, the other refuses.
TEST_F(TwoServersTest, AReplayThroughTheOtherServerIsRefused) {
  ART_ASSERT_OK_AND_ASSIGN(std::vector<Seat> seats, CreateGroupOf({clients_[0].get()}, {"alice", "bob"}, "replayed"));
  v1::PostMessageRequest request;
  ART_ASSERT_OK_AND_ASSIGN(*request.mutable_message(), seats[0].state().Protect(1, art::AsBytes("once")));
  *request.mutable_auth() = clients_[0]->Sign(*seats[0].device, art::kPostMessageMethod, art::RequestDigest(request));
  v1::PostMessageResponse response;
  ART_ASSERT_OK(FromGrpc(clients_[0]->mailbox->PostMessage(clients_[0]->Context().get(), request, &response)));
  grpc::Status replayed = clients_[1]->mailbox->PostMessage(clients_[1]->Context().get(), request, &response);
  EXPECT_EQ(replayed.error_code(), grpc::StatusCode::PERMISSION_DENIED) << replayed.error_message();
  ART_ASSERT_OK_AND_ASSIGN(std::vector<v1::StoredMessage> stored, FetchAllMessages(*clients_[1], "replayed"));
  EXPECT_EQ(stored.size(), 1u);
}

// A watcher connected to one server hears of a commit made through the other (by polling the
// database, since no in-process notification crosses processes).
TEST_F(TwoServersTest, AWatchThroughOneServerSeesCommitsMadeThroughTheOther) {
  ART_ASSERT_OK_AND_ASSIGN(std::vector<Seat> seats, CreateGroupOf({clients_[0].get()}, {"alice", "bob"}, "watched"));
  v1::WatchGroupRequest request;
  request.set_group_id("watched");
  std::unique_ptr<grpc::ClientContext> context = clients_[1]->Context();  // The deadline bounds the wait.
  std::unique_ptr<grpc::ClientReaderInterface<v1::GroupEvent>> stream =
      clients_[1]->groups->WatchGroup(context.get(), request);
  ART_ASSERT_OK(CommitUpdate(*clients_[0], seats[0]).status());
  v1::GroupEvent event;
  ASSERT_TRUE(stream->Read(&event)) << FromGrpc(stream->Finish());
  ASSERT_TRUE(event.has_commit());
  ART_ASSERT_OK_AND_ASSIGN(std::vector<v1::Commit> committed, ListCommits(*clients_[0], "watched", 0));
  ASSERT_EQ(committed.size(), 1u);
  EXPECT_EQ(event.commit().SerializeAsString(), committed[0].SerializeAsString());
  context->TryCancel();
  stream->Finish();
}

}  // namespace
}  // namespace artd::testing
