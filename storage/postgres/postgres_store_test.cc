// The PostgreSQL store: the conformance suite, then what only a shared server shows: replicas
// migrating one new database at once, replicas racing commits and prekey takes, text and bytea
// round trips, and losing the database and getting it back.
//
// Needs a server: ARTD_TEST_POSTGRES_URL names it (a user allowed to create databases, e.g.
// postgresql://postgres@127.0.0.1:55432/postgres; scripts/test.sh starts a scratch cluster and sets
// it). Every test works in a database of its own, created here and dropped afterwards. Without the
// variable every test is skipped.
#include "storage/postgres/postgres_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/postgres/pg_connection.h"
#include "storage/testing/store_conformance.h"

namespace artd {
namespace {

using store_testing::CreateTestGroup;
using store_testing::PublishTestMember;
using store_testing::StoreConformance;
using store_testing::StoreFactory;
using store_testing::TestCommit;

constexpr const char* kServerVariable = "ARTD_TEST_POSTGRES_URL";
constexpr const char* kTenant = "tenant";
constexpr const char* kGroup = "group";
constexpr uint32_t kLeaves = 4;

std::string ServerUrl() {
  const char* url = std::getenv(kServerVariable);
  return url != nullptr ? url : "";
}

// |url| with its database name replaced by |database| (the path of a postgres:// URL).
std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t scheme = url.find("://");
  const size_t path = url.find_first_of("/?", scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return absl::StrCat(url, "/", database);
  if (url[path] == '?') return absl::StrCat(url.substr(0, path), "/", database, url.substr(path));
  const size_t query = url.find('?', path);
  return absl::StrCat(url.substr(0, path + 1), database, query == std::string::npos ? "" : url.substr(query));
}

// A connection to the server's own database (the one the variable names), for creating and dropping
// test databases and for playing the database administrator.
std::unique_ptr<postgres::Connection> Admin() {
  absl::StatusOr<std::unique_ptr<postgres::Connection>> admin = postgres::Connection::Open(ServerUrl(), {});
  if (!admin.ok()) {
    ADD_FAILURE() << admin.status();
    return nullptr;
  }
  return *std::move(admin);
}

// Runs administrative SQL built here from generated names (identifiers cannot be parameters).
void AdminExec(const std::string& sql) {
  std::unique_ptr<postgres::Connection> admin = Admin();
  if (admin == nullptr) return;
  absl::Status status = admin->Exec(sql.c_str());
  EXPECT_TRUE(status.ok()) << status;
}

// A new, empty database on the server, dropped (with any connections left to it) when this goes.
class ScratchDatabase {
 public:
  ScratchDatabase() {
    static std::atomic<int> counter{0};
    name_ = absl::StrCat("artd_test_", getpid(), "_", counter++, "_", absl::ToUnixMicros(absl::Now()) % 1000000);
    AdminExec(absl::StrCat("CREATE DATABASE ", name_));
  }
  ~ScratchDatabase() { AdminExec(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)")); }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& name() const { return name_; }
  std::string url() const { return WithDatabase(ServerUrl(), name_); }

 private:
  std::string name_;
};

std::unique_ptr<Store> OpenOrNull(const std::string& url, const PostgresOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore(url, options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return *std::move(store);
}

// Skips every test without a server, and drops the conformance tests' databases.
class ServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (ServerUrl().empty()) {
      GTEST_SKIP() << kServerVariable << " is not set: these tests need a PostgreSQL server, e.g. "
                   << kServerVariable << "=postgresql://postgres@127.0.0.1:55432/postgres "
                   << "(scripts/test.sh starts a scratch cluster and sets it)";
    }
  }
  void TearDown() override { conformance_databases.clear(); }

  // The conformance fixture owns its store but not the database under it: each factory call drops
  // the previous test's database (its store is gone by then), and TearDown drops the last.
  std::vector<std::unique_ptr<ScratchDatabase>> conformance_databases;
};

ServerEnvironment* const environment =
    static_cast<ServerEnvironment*>(::testing::AddGlobalTestEnvironment(new ServerEnvironment));

std::unique_ptr<Store> MakeConformanceStore() {
  environment->conformance_databases.clear();
  environment->conformance_databases.push_back(std::make_unique<ScratchDatabase>());
  return OpenOrNull(environment->conformance_databases.back()->url());
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance, ::testing::Values(StoreFactory(&MakeConformanceStore)));

// Sets up tenant, group (epoch 0) and member "alice" with |one_time_prekeys| one-time prekeys.
void Populate(Store& store, uint32_t one_time_prekeys) {
  ASSERT_TRUE(store.CreateTenant(kTenant).ok());
  ASSERT_TRUE(CreateTestGroup(store, kTenant, kGroup, kLeaves).ok());
  ASSERT_TRUE(PublishTestMember(store, kTenant, "alice", one_time_prekeys).ok());
}

// The recorded schema versions, oldest first.
std::vector<int64_t> MigrationVersions(const ScratchDatabase& database) {
  std::vector<int64_t> versions;
  auto connection = postgres::Connection::Open(database.url(), {});
  if (!connection.ok()) {
    ADD_FAILURE() << connection.status();
    return versions;
  }
  auto result = (*connection)->Query("SELECT version FROM schema_migrations ORDER BY version");
  if (!result.ok()) {
    ADD_FAILURE() << result.status();
    return versions;
  }
  for (int row = 0; row < result->rows(); ++row) versions.push_back(result->Int(row, 0));
  return versions;
}

std::vector<int64_t> AllVersions() {
  std::vector<int64_t> versions;
  for (int version = 1; version <= PostgresSchemaVersion(); ++version) versions.push_back(version);
  return versions;
}

// Several stores on one database, as replicas of the service are.
std::vector<std::unique_ptr<Store>> OpenReplicas(const ScratchDatabase& database, int count) {
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < count; ++i) replicas.push_back(OpenOrNull(database.url()));
  return replicas;
}

// Runs |body(i)| for i in [0, count) on threads of their own, released at the same moment.
void RunTogether(int count, const std::function<void(int)>& body) {
  absl::Notification start;
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      start.WaitForNotification();
      body(i);
    });
  }
  start.Notify();
  for (std::thread& thread : threads) thread.join();
}

// ---- Placeholders ----

// The shared queries name parameters ?N; PostgreSQL is sent $N, and nothing else changes.
TEST(PostgresPlaceholders, RewritesNumberedQuestionMarksOutsideQuotes) {
  EXPECT_EQ(postgres::PostgresPlaceholders("SELECT a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = $12");
  EXPECT_EQ(postgres::PostgresPlaceholders("SELECT '?1', \"?2\", 'it''s ?3' FROM t WHERE x = ?4"),
            "SELECT '?1', \"?2\", 'it''s ?3' FROM t WHERE x = $4");
  EXPECT_EQ(postgres::PostgresPlaceholders("SELECT $1, ? FROM t"), "SELECT $1, ? FROM t");
}

// ---- Migrations ----

TEST(PostgresStore, ReplicasStartingAtOnceApplyEachMigrationOnce) {
  ScratchDatabase database;
  constexpr int kReplicas = 6;
  std::vector<absl::Status> opened(kReplicas);
  RunTogether(kReplicas, [&](int i) { opened[i] = OpenPostgresStore(database.url()).status(); });
  for (const absl::Status& status : opened) EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(MigrationVersions(database), AllVersions());
}

TEST(PostgresStore, ReopeningKeepsDataAndNewerSchemaIsRefused) {
  ScratchDatabase database;
  {
    std::unique_ptr<Store> store = OpenOrNull(database.url());
    ASSERT_NE(store, nullptr);
    Populate(*store, 3);
    ASSERT_TRUE(store->ApplyCommit(kTenant, kGroup, TestCommit(0, kLeaves, "e1")).ok());
  }
  std::unique_ptr<Store> reopened = OpenOrNull(database.url());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(MigrationVersions(database), AllVersions());
  EXPECT_EQ(reopened->GroupHeader(kTenant, kGroup).value().epoch, 1u);
  EXPECT_EQ(reopened->CountPrekeys(kTenant, "alice").value().one_time_remaining, 3u);

  auto connection = postgres::Connection::Open(database.url(), {});
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE((*connection)
                  ->Run("INSERT INTO schema_migrations (version) VALUES ($1::integer)", PostgresSchemaVersion() + 1)
                  .ok());
  EXPECT_EQ(OpenPostgresStore(database.url()).status().code(), absl::StatusCode::kFailedPrecondition);
}

// ---- Replicas racing ----

TEST(PostgresStore, ReplicasRacingForEachEpochHaveOneWinner) {
  ScratchDatabase database;
  constexpr int kReplicas = 4;
  constexpr uint64_t kEpochs = 15;
  std::vector<std::unique_ptr<Store>> replicas = OpenReplicas(database, kReplicas);
  for (const auto& replica : replicas) ASSERT_NE(replica, nullptr);
  Populate(*replicas[0], 0);

  std::vector<int> winners;
  for (uint64_t epoch = 0; epoch < kEpochs; ++epoch) {
    // Every replica commits from the same epoch at the same moment.
    std::vector<absl::Status> results(kReplicas);
    RunTogether(kReplicas, [&](int i) {
      results[i] =
          replicas[i]->ApplyCommit(kTenant, kGroup, TestCommit(epoch, kLeaves, absl::StrCat("replica-", i, "@", epoch + 1)));
    });
    int winner = -1;
    for (int i = 0; i < kReplicas; ++i) {
      if (results[i].ok()) {
        EXPECT_EQ(winner, -1) << "epoch " << epoch + 1 << " won twice";
        winner = i;
      } else {
        EXPECT_EQ(results[i].code(), absl::StatusCode::kAborted) << results[i];
      }
    }
    ASSERT_NE(winner, -1) << "nobody won epoch " << epoch + 1;
    winners.push_back(winner);
  }
  // Every replica reads the winners' commits, and only theirs.
  for (const auto& replica : replicas) {
    absl::StatusOr<std::vector<StoredCommit>> commits = replica->ListCommits(kTenant, kGroup, 0, 100);
    ASSERT_TRUE(commits.ok()) << commits.status();
    ASSERT_EQ(commits->size(), kEpochs);
    for (const StoredCommit& commit : *commits) {
      EXPECT_EQ(commit.commit, absl::StrCat("commit:replica-", winners[commit.epoch - 1], "@", commit.epoch));
    }
  }
}

TEST(PostgresStore, ReplicasTakingBundlesNeverHandOutAnOneTimePrekeyTwice) {
  ScratchDatabase database;
  constexpr int kReplicas = 4;
  constexpr int kThreadsPerReplica = 3;
  constexpr uint32_t kPrekeys = 200;
  std::vector<std::unique_ptr<Store>> replicas = OpenReplicas(database, kReplicas);
  for (const auto& replica : replicas) ASSERT_NE(replica, nullptr);
  Populate(*replicas[0], kPrekeys);

  // Each thread keeps its own log (no locking among the takers); the logs are merged afterwards.
  constexpr int kThreads = kReplicas * kThreadsPerReplica;
  std::vector<std::vector<std::string>> taken_by(kThreads);
  std::vector<absl::Status> ended(kThreads);
  RunTogether(kThreads, [&](int i) {
    for (;;) {
      absl::StatusOr<TakenBundle> bundle = replicas[i % kReplicas]->TakePrekeyBundle(kTenant, "alice");
      if (!bundle.ok() || bundle->one_time_prekey.empty()) {
        ended[i] = bundle.status();
        return;
      }
      taken_by[i].push_back(bundle->one_time_prekey);
    }
  });
  std::vector<std::string> taken;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(ended[i].ok()) << "taker " << i << ": " << ended[i];
    taken.insert(taken.end(), taken_by[i].begin(), taken_by[i].end());
  }
  EXPECT_EQ(taken.size(), kPrekeys);
  EXPECT_EQ(std::set<std::string>(taken.begin(), taken.end()).size(), taken.size())
      << "a one-time prekey was handed out twice";
  EXPECT_EQ(replicas[1]->CountPrekeys(kTenant, "alice").value().one_time_remaining, 0u);
}

// ---- Values ----

TEST(PostgresStore, BlobsAreBinarySafeAndIdsAreNeverTruncated) {
  ScratchDatabase database;
  std::unique_ptr<Store> store = OpenOrNull(database.url());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateTenant(kTenant).ok());
  std::string every_byte;
  for (int value = 0; value < 256; ++value) every_byte.push_back(static_cast<char>(value));
  ASSERT_TRUE(store->PutStateBlob(kTenant, "alice", "state", 0, every_byte).ok());
  EXPECT_EQ(store->GetStateBlob(kTenant, "alice", "state").value().ciphertext, every_byte);
  ASSERT_TRUE(store->PutStateBlob(kTenant, "alice", "empty", 0, "").ok());
  EXPECT_EQ(store->GetStateBlob(kTenant, "alice", "empty").value().ciphertext, "");

  // A NUL inside an id must not cut it short (it would name another member): text refuses it.
  EXPECT_EQ(store->PutIdentity(kTenant, std::string("alice\0bob", 9), "credential").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->CreateTenant("\xff\xfe").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->GetIdentity(kTenant, "alice").status().code(), absl::StatusCode::kNotFound);
}

// ---- Losing the database ----

TEST(PostgresStore, UnreachableServerIsUnavailable) {
  PostgresOptions options;
  options.connect_timeout_seconds = 2;
  // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
  EXPECT_EQ(OpenPostgresStore("postgresql://postgres@127.0.0.1:1/none", options).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(PostgresStore, LostConnectionsAreUnavailableUntilTheDatabaseIsBack) {
  ScratchDatabase database;
  PostgresOptions options;
  options.max_connections = 3;
  std::unique_ptr<Store> store = OpenOrNull(database.url(), options);
  ASSERT_NE(store, nullptr);
  Populate(*store, 2);

  // "The database goes down": every connection to it is terminated and no new one is accepted.
  std::unique_ptr<postgres::Connection> admin = Admin();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->Exec(absl::StrCat("ALTER DATABASE ", database.name(), " ALLOW_CONNECTIONS false").c_str()).ok());
  absl::StatusOr<postgres::Result> terminated =
      admin->Query("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1", database.name());
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_GT(terminated->rows(), 0);

  EXPECT_EQ(store->GroupHeader(kTenant, kGroup).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->ApplyCommit(kTenant, kGroup, TestCommit(0, kLeaves, "while-down")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->TakePrekeyBundle(kTenant, "alice").status().code(), absl::StatusCode::kUnavailable);

  // "It is back": the same store recovers without being reopened, and nothing was half-written.
  ASSERT_TRUE(admin->Exec(absl::StrCat("ALTER DATABASE ", database.name(), " ALLOW_CONNECTIONS true").c_str()).ok());
  absl::StatusOr<GroupHeaderRecord> header = store->GroupHeader(kTenant, kGroup);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->epoch, 0u);
  EXPECT_TRUE(store->ApplyCommit(kTenant, kGroup, TestCommit(0, kLeaves, "after")).ok());
  EXPECT_EQ(store->CountPrekeys(kTenant, "alice").value().one_time_remaining, 2u);
}

TEST(PostgresStore, ConnectionsDroppedWhileIdleAreReplacedTransparently) {
  ScratchDatabase database;
  std::unique_ptr<Store> store = OpenOrNull(database.url());
  ASSERT_NE(store, nullptr);
  Populate(*store, 1);
  // A server restart drops the pool's idle connections; nothing ran on them, so the next call runs
  // on a fresh connection instead of failing.
  std::unique_ptr<postgres::Connection> admin = Admin();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->Query("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1",
                           database.name())
                  .ok());
  absl::StatusOr<GroupHeaderRecord> header = store->GroupHeader(kTenant, kGroup);
  EXPECT_TRUE(header.ok()) << header.status();
  EXPECT_TRUE(store->ApplyCommit(kTenant, kGroup, TestCommit(0, kLeaves, "after-restart")).ok());
}

}  // namespace
}  // namespace artd
