// The process tests' ground on PostgreSQL: a database of the test's own on the server
// ARTD_TEST_POSTGRES_URL names, provisioned through `artd admin`, and replicas of `artd serve` on it,
// each with a client. Without the variable every test skips.
#ifndef TESTS_PROCESS_POSTGRES_PROCESS_TEST_H_
#define TESTS_PROCESS_POSTGRES_PROCESS_TEST_H_

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/process/acknowledged_writer.h"
#include "tests/process/postgres_server.h"
#include "tests/process/process_test.h"

namespace artd::testing {

class PostgresProcessTest : public ProcessTest {
 protected:
  void SetUp() override {
    if (PostgresServerUrl().empty()) {
      GTEST_SKIP() << kPostgresServerVariable << " is not set: this test needs a PostgreSQL server, e.g. "
                   << kPostgresServerVariable << "=postgresql://postgres@127.0.0.1:55432/postgres "
                   << "(scripts/test.sh starts a scratch cluster and sets it)";
    }
    ART_ASSERT_OK_AND_ASSIGN(database_on_server_, ScratchDatabase::Create(PostgresServerUrl()));
    ASSERT_NO_FATAL_FAILURE(Provision(database_on_server_->url()));
  }

  // Starts |count| replicas on the database and connects a client to each.
  void StartReplicas(int count) {
    for (int i = 0; i < count; ++i) {
      ART_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtdProcess> replica, StartServer());
      clients_.push_back(Connect(*replica));
      replicas_.push_back(std::move(replica));
    }
  }

  // The clients, the one of replica (first + i) % n at i: whoever takes them in turn starts at
  // replica |first|.
  std::vector<TenantClient*> Clients(size_t first = 0) const {
    std::vector<TenantClient*> clients;
    for (size_t i = 0; i < clients_.size(); ++i) clients.push_back(clients_[(first + i) % clients_.size()].get());
    return clients;
  }

  // A group of a writer (seats[0]) and a reader, which stays at epoch 0 until it reads everything.
  struct WrittenGroup {
    std::string id;
    std::vector<Seat> seats;
    std::unique_ptr<AcknowledgedWriter> writer;
    Acknowledged all;  // What every writer of the group so far was acknowledged.
  };

  // Creates |count| groups, each through the replicas in turn starting at a different one.
  void CreateWrittenGroups(int count) {
    for (int g = 0; g < count; ++g) {
      WrittenGroup group;
      group.id = absl::StrCat("written-", g);
      ART_ASSERT_OK_AND_ASSIGN(group.seats, CreateGroupOf(Clients(g), {absl::StrCat("writer-", g),
                                                                          absl::StrCat("reader-", g)},
                                                          group.id));
      groups_.push_back(std::move(group));
    }
  }

  // Starts a writer on each group, taking the replicas in turn from a different first one (so that
  // the replicas share the load at every moment), committing after every 2 messages.
  void StartWriters(bool fail_over) {
    for (size_t g = 0; g < groups_.size(); ++g) {
      std::vector<TenantClient*> clients = Clients(g);
      groups_[g].writer = std::make_unique<AcknowledgedWriter>(
          std::vector<const TenantClient*>(clients.begin(), clients.end()), &groups_[g].seats[0],
          /*messages_per_commit=*/2, fail_over);
      groups_[g].writer->Start();
    }
  }

  // Waits until every writer has had |messages| more messages and |commits| more commits
  // acknowledged than when this was called.
  void AwaitMoreProgress(size_t messages, size_t commits, absl::Duration timeout) {
    for (WrittenGroup& group : groups_) {
      const auto [acknowledged_messages, acknowledged_commits] = group.writer->Progress();
      ASSERT_TRUE(group.writer->AwaitProgress(acknowledged_messages + messages, acknowledged_commits + commits,
                                              timeout))
          << group.id << ": " << group.writer->end_status();
    }
  }

  // Stops the writers (if they have not ended), settles their commits in flight through |through|
  // and adds what they were acknowledged to their group's record.
  void EndWriters(const TenantClient& through) {
    for (WrittenGroup& group : groups_) {
      group.writer->Stop();
      ART_ASSERT_OK(group.writer->Recover(through));
      group.all.Add(group.writer->acknowledged());
    }
  }

  // Every acknowledged message and commit of every group is stored, as |through| sees the database.
  void CheckNothingLost(const TenantClient& through) {
    for (const WrittenGroup& group : groups_) {
      ART_ASSERT_OK(CheckAcknowledgedStored(through, group.id, group.all));
    }
  }

  // Each reader reads its group's whole log through |through|, decrypting every message, and ends
  // where its writer is.
  void CheckReadersReadEverything(const TenantClient& through) {
    for (WrittenGroup& group : groups_) {
      ART_ASSERT_OK(CheckOneHistory(through, group.seats[0], group.seats[1], group.all));
    }
  }

  // After the writers were ended: writes succeed again through every replica, and the groups go on.
  // New writers, taking the replicas in turn, make progress and end without a failure; nothing is
  // lost, and each reader reads its group's whole log and agrees with its writer.
  void CheckGroupsGoOn() {
    ASSERT_NO_FATAL_FAILURE(StartWriters(/*fail_over=*/false));
    ASSERT_NO_FATAL_FAILURE(AwaitMoreProgress(30, 10, absl::Seconds(20)));
    ASSERT_NO_FATAL_FAILURE(EndWriters(*clients_[1 % clients_.size()]));
    for (const WrittenGroup& group : groups_) {
      EXPECT_TRUE(group.writer->end_status().ok()) << group.id << ": " << group.writer->end_status();
    }
    ASSERT_NO_FATAL_FAILURE(CheckNothingLost(*clients_[2 % clients_.size()]));
    ASSERT_NO_FATAL_FAILURE(CheckReadersReadEverything(*clients_[0]));
  }

  // Declared first, so destroyed last: the database outlives the replicas on it, and the replicas
  // outlive the writers calling them.
  std::unique_ptr<ScratchDatabase> database_on_server_;
  std::vector<std::unique_ptr<ArtdProcess>> replicas_;
  std::vector<std::unique_ptr<TenantClient>> clients_;
  std::vector<WrittenGroup> groups_;
};

}  // namespace artd::testing

#endif  // TESTS_PROCESS_POSTGRES_PROCESS_TEST_H_
