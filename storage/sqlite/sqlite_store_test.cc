#include "storage/sqlite/sqlite_store.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/testing/store_conformance.h"

namespace artd {
namespace {

using store_testing::CreateTestGroup;
using store_testing::PublishTestMember;
using store_testing::StoreConformance;
using store_testing::StoreFactory;
using store_testing::TestCommit;

constexpr const char* kTenant = "tenant";
constexpr const char* kGroup = "group";
constexpr uint32_t kLeaves = 4;

// A fresh database file under the test's temporary directory.
std::string TempPath(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name, "-", getpid(), "-", counter++, ".db");
}

std::unique_ptr<Store> OpenOrNull(const std::string& path, const SqliteStoreOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(path, options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return *std::move(store);
}

std::unique_ptr<Store> MakeFileStore() { return OpenOrNull(TempPath("conformance")); }
std::unique_ptr<Store> MakeMemoryStore() { return OpenOrNull(":memory:"); }

INSTANTIATE_TEST_SUITE_P(SqliteFile, StoreConformance, ::testing::Values(StoreFactory(&MakeFileStore)));
INSTANTIATE_TEST_SUITE_P(SqliteMemory, StoreConformance, ::testing::Values(StoreFactory(&MakeMemoryStore)));

// The (version, applied_at) rows of schema_migrations, read with a separate connection.
std::vector<std::pair<int64_t, int64_t>> Migrations(const std::string& path) {
  std::vector<std::pair<int64_t, int64_t>> rows;
  auto connection = sqlite::Connection::Open(path, 5000);
  if (!connection.ok()) {
    ADD_FAILURE() << connection.status();
    return rows;
  }
  auto statement = (*connection)->Query("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  if (!statement.ok()) {
    ADD_FAILURE() << statement.status();
    return rows;
  }
  while (statement->Step().value_or(false)) rows.emplace_back(statement->Int(0), statement->Int(1));
  return rows;
}

// Sets up tenant, group (epoch 0) and member "alice" with |one_time_prekeys| one-time prekeys.
void Populate(Store& store, uint32_t one_time_prekeys) {
  ASSERT_TRUE(store.CreateTenant(kTenant).ok());
  ASSERT_TRUE(CreateTestGroup(store, kTenant, kGroup, kLeaves).ok());
  ASSERT_TRUE(PublishTestMember(store, kTenant, "alice", one_time_prekeys).ok());
}

// ---- Racing workers, shared by the thread, two-store and two-process tests ----

// What one worker did: the epochs its commits created and the one-time prekeys it was handed.
struct RaceLog {
  std::vector<uint64_t> won_epochs;
  std::vector<std::string> taken;
  std::vector<std::string> errors;
};

// Commits until the group reaches |final_epoch|, each time from the epoch it just read, so every
// attempt races the other workers'. Commit bodies name |who| and the epoch they create.
void RaceCommits(Store& store, const std::string& who, uint64_t final_epoch, RaceLog* log) {
  for (;;) {
    absl::StatusOr<GroupHeaderRecord> header = store.GroupHeader(kTenant, kGroup);
    if (!header.ok()) {
      log->errors.push_back(header.status().ToString());
      return;
    }
    if (header->epoch >= final_epoch) return;
    absl::Status status = store.ApplyCommit(
        kTenant, kGroup, TestCommit(header->epoch, kLeaves, absl::StrCat(who, "@", header->epoch + 1)));
    if (status.ok()) {
      log->won_epochs.push_back(header->epoch + 1);
    } else if (!absl::IsAborted(status)) {
      log->errors.push_back(status.ToString());
      return;
    }
  }
}

// Takes bundles of "alice" until no one-time prekey is left.
void RaceTakes(Store& store, RaceLog* log) {
  for (;;) {
    absl::StatusOr<TakenBundle> bundle = store.TakePrekeyBundle(kTenant, "alice");
    if (!bundle.ok()) {
      log->errors.push_back(bundle.status().ToString());
      return;
    }
    if (bundle->one_time_prekey.empty()) return;
    log->taken.push_back(bundle->one_time_prekey);
  }
}

// A worker's name and the store it uses.
using Worker = std::pair<std::string, Store*>;
// Each worker's logs, under its name.
using NamedLogs = std::vector<std::pair<std::string, RaceLog>>;

// Runs RaceCommits and RaceTakes for every worker in parallel, one thread each.
NamedLogs RaceAll(const std::vector<Worker>& workers, uint64_t final_epoch) {
  NamedLogs logs;
  for (const Worker& worker : workers) {
    logs.emplace_back(worker.first, RaceLog());  // Commits.
    logs.emplace_back(worker.first, RaceLog());  // Bundle takes.
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < workers.size(); ++i) {
    Store& store = *workers[i].second;
    threads.emplace_back(RaceCommits, std::ref(store), workers[i].first, final_epoch, &logs[2 * i].second);
    threads.emplace_back(RaceTakes, std::ref(store), &logs[2 * i + 1].second);
  }
  for (std::thread& thread : threads) thread.join();
  return logs;
}

// Checks the invariants after a race: every epoch 1..final_epoch was won by exactly one worker whose
// commit is the one in the log, and the one-time prekeys were handed out exactly once each.
void ExpectRaceInvariants(Store& store, const NamedLogs& logs,
                          uint64_t final_epoch, uint32_t one_time_prekeys) {
  std::map<uint64_t, std::string> winners;
  std::vector<std::string> taken;
  for (const auto& [who, log] : logs) {
    EXPECT_THAT(log.errors, ::testing::IsEmpty()) << who;
    for (uint64_t epoch : log.won_epochs) {
      EXPECT_TRUE(winners.emplace(epoch, who).second) << "epoch " << epoch << " won twice";
    }
    taken.insert(taken.end(), log.taken.begin(), log.taken.end());
  }
  absl::StatusOr<std::vector<StoredCommit>> commits = store.ListCommits(kTenant, kGroup, 0, 1000);
  ASSERT_TRUE(commits.ok()) << commits.status();
  ASSERT_EQ(commits->size(), final_epoch);
  ASSERT_EQ(winners.size(), final_epoch);
  for (const StoredCommit& commit : *commits) {
    EXPECT_EQ(commit.commit, absl::StrCat("commit:", winners[commit.epoch], "@", commit.epoch));
  }
  EXPECT_EQ(taken.size(), one_time_prekeys);
  EXPECT_EQ(std::set<std::string>(taken.begin(), taken.end()).size(), taken.size())
      << "a one-time prekey was handed out twice";
}

// ---- Configuration and migrations ----

// Durable commits, foreign keys, and savepoint journals kept in memory (temp_store 2) rather than
// spilled to temporary files by the write batches.
TEST(SqliteStore, ConnectionsAreDurableAndEnforceForeignKeys) {
  const std::string path = TempPath("pragmas");
  ASSERT_NE(OpenOrNull(path), nullptr);
  auto connection = sqlite::Connection::Open(path, 5000);
  ASSERT_TRUE(connection.ok()) << connection.status();
  for (const auto& [pragma, expected] : std::vector<std::pair<const char*, std::string>>{
           {"PRAGMA journal_mode", "wal"},
           {"PRAGMA synchronous", "2"},
           {"PRAGMA foreign_keys", "1"},
           {"PRAGMA temp_store", "2"}}) {
    auto statement = (*connection)->Query(pragma);
    ASSERT_TRUE(statement.ok()) << statement.status();
    ASSERT_TRUE(statement->Step().value_or(false));
    EXPECT_EQ(statement->Text(0), expected) << pragma;
  }
}

TEST(SqliteStore, ReopeningKeepsDataAndAppliesNoMigrationTwice) {
  const std::string path = TempPath("reopen");
  {
    std::unique_ptr<Store> store = OpenOrNull(path);
    ASSERT_NE(store, nullptr);
    Populate(*store, 3);
    ASSERT_TRUE(store->ApplyCommit(kTenant, kGroup, TestCommit(0, kLeaves, "e1")).ok());
  }
  const auto migrations = Migrations(path);
  ASSERT_EQ(migrations.size(), static_cast<size_t>(SqliteSchemaVersion()));
  for (int i = 0; i < SqliteSchemaVersion(); ++i) EXPECT_EQ(migrations[i].first, i + 1);

  std::unique_ptr<Store> reopened = OpenOrNull(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(Migrations(path), migrations);
  EXPECT_EQ(reopened->GroupHeader(kTenant, kGroup).value().epoch, 1u);
  EXPECT_EQ(reopened->GetIdentity(kTenant, "alice").value_or(""), "credential:alice");
  EXPECT_EQ(reopened->CountPrekeys(kTenant, "alice").value().one_time_remaining, 3u);
}

TEST(SqliteStore, ConcurrentFirstOpensMigrateOnce) {
  const std::string path = TempPath("first-open");
  constexpr int kOpeners = 6;
  std::vector<std::unique_ptr<Store>> stores(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) threads.emplace_back([&, i] { stores[i] = OpenOrNull(path); });
  for (std::thread& thread : threads) thread.join();
  for (const auto& store : stores) EXPECT_NE(store, nullptr);
  EXPECT_EQ(Migrations(path).size(), static_cast<size_t>(SqliteSchemaVersion()));
}

TEST(SqliteStore, NewerSchemaIsRefused) {
  const std::string path = TempPath("newer");
  ASSERT_NE(OpenOrNull(path), nullptr);
  {
    auto connection = sqlite::Connection::Open(path, 5000);
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE((*connection)
                    ->Run("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 0)",
                          SqliteSchemaVersion() + 1)
                    .ok());
  }
  EXPECT_EQ(OpenSqliteStore(path).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteStore, LockHeldPastTheBusyTimeoutIsUnavailable) {
  const std::string path = TempPath("busy");
  SqliteStoreOptions options;
  options.busy_timeout_ms = 100;
  std::unique_ptr<Store> store = OpenOrNull(path, options);
  ASSERT_NE(store, nullptr);
  Populate(*store, 1);
  // Another "process" holds the write lock.
  auto other = sqlite::Connection::Open(path, 5000);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("BEGIN IMMEDIATE").ok());
  EXPECT_EQ(store->ApplyCommit(kTenant, kGroup, TestCommit(0, kLeaves, "blocked")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->GroupHeader(kTenant, kGroup).value().epoch, 0u);  // Readers are not blocked (WAL).
  ASSERT_TRUE((*other)->Exec("ROLLBACK").ok());
  EXPECT_TRUE(store->ApplyCommit(kTenant, kGroup, TestCommit(0, kLeaves, "after")).ok());
}

// ---- Two stores, two processes ----

TEST(SqliteStore, TwoStoresOnOneFileRace) {
  constexpr uint64_t kFinalEpoch = 40;
  constexpr uint32_t kPrekeys = 150;
  const std::string path = TempPath("two-stores");
  std::unique_ptr<Store> first = OpenOrNull(path);
  std::unique_ptr<Store> second = OpenOrNull(path);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  Populate(*first, kPrekeys);
  const NamedLogs logs = RaceAll(
      {{"first-a", first.get()}, {"first-b", first.get()}, {"second-a", second.get()}, {"second-b", second.get()}},
      kFinalEpoch);
  ExpectRaceInvariants(*second, logs, kFinalEpoch, kPrekeys);
}

// The child's log crosses the pipe as lines: "E <epoch>", "O <prekey>", "X <error>".
std::string SerializeLogs(const NamedLogs& logs) {
  std::ostringstream out;
  for (const auto& [who, log] : logs) {
    for (uint64_t epoch : log.won_epochs) out << "E " << epoch << "\n";
    for (const std::string& prekey : log.taken) out << "O " << prekey << "\n";
    for (const std::string& error : log.errors) out << "X " << error << "\n";
  }
  return out.str();
}

RaceLog ParseLog(const std::string& text) {
  RaceLog log;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 2) continue;
    const std::string value = line.substr(2);
    if (line[0] == 'E') log.won_epochs.push_back(std::stoull(value));
    if (line[0] == 'O') log.taken.push_back(value);
    if (line[0] == 'X') log.errors.push_back(value);
  }
  return log;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadAll(int fd) {
  std::string data;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) data.append(buffer, static_cast<size_t>(n));
  return data;
}

// The child process: opens its own store on the file (SQLite connections must never cross a fork,
// so it was forked before the parent opened anything on this file), says it is ready, waits for the
// parent's go, races, and reports its log. Uses no GoogleTest machinery; its exit code says whether
// it could report.
int RunChild(const std::string& path, uint64_t final_epoch, int ready_fd, int go_fd, int report_fd) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  char go = 0;
  if (!WriteAll(ready_fd, "r") || read(go_fd, &go, 1) != 1) return 2;
  NamedLogs logs = {{"child", RaceLog()}};
  if (!store.ok()) {
    logs[0].second.errors.push_back(store.status().ToString());
  } else if (go == 'g') {
    logs = RaceAll({{"child", store->get()}}, final_epoch);
  }
  return WriteAll(report_fd, SerializeLogs(logs)) ? 0 : 3;
}

TEST(SqliteStoreProcesses, ForkedProcessesRaceCommitsAndBundleTakes) {
  constexpr uint64_t kFinalEpoch = 150;
  constexpr uint32_t kPrekeys = 600;
  const std::string path = TempPath("fork");
  int ready[2];
  int go[2];
  int report[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(report), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    close(go[1]);
    close(report[0]);
    _exit(RunChild(path, kFinalEpoch, ready[1], go[0], report[1]));
  }
  close(ready[1]);
  close(go[0]);
  close(report[1]);

  std::unique_ptr<Store> store = OpenOrNull(path);
  if (store != nullptr) Populate(*store, kPrekeys);
  // Both processes start racing once both have a store open. The child is always released, even
  // after a failure above, so it never hangs.
  const bool setup_ok = store != nullptr && !::testing::Test::HasFailure();
  char child_ready = 0;
  EXPECT_EQ(read(ready[0], &child_ready, 1), 1);
  EXPECT_TRUE(WriteAll(go[1], setup_ok ? "g" : "x"));
  close(ready[0]);
  close(go[1]);
  NamedLogs logs;
  if (setup_ok) logs = RaceAll({{"parent", store.get()}}, kFinalEpoch);
  const std::string child_report = ReadAll(report[0]);
  close(report[0]);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  ASSERT_EQ(WEXITSTATUS(wait_status), 0);
  ASSERT_TRUE(setup_ok);

  const RaceLog child_log = ParseLog(child_report);
  logs.emplace_back("child", child_log);
  ExpectRaceInvariants(*store, logs, kFinalEpoch, kPrekeys);
  // Not a correctness requirement: on a loaded machine one process can win the whole race (its
  // batches take the write lock back to back while the other's busy handler polls), which made this
  // a flaky failure. Said, not failed; the invariants above are the test.
  if (child_log.won_epochs.empty() && child_log.taken.empty()) {
    std::fprintf(stderr, "note: the child process never won an epoch or a prekey in this run\n");
  }
}

}  // namespace
}  // namespace artd
