#include "storage/sqlite/sqlite_store.h"

#include <pthread.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "art/base/status_macros.h"
#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "storage/sql/query.h"
#include "storage/sql/sql_store.h"
#include "storage/sqlite/sqlite_db.h"

namespace artd {
namespace {

using sqlite::Connection;
using sqlite::ConnectionPool;
using sqlite::Statement;
using sqlite::TransactionKind;

// ---- Schema ----

// The migrations, in order; migration i brings the schema to version i + 1. Never edit one that has
// shipped: append a new one. Each runs in its own transaction together with its schema_migrations row.
//
// Every row is keyed by tenant_id. The tree is versioned: nodes and leaves hold one row per
// (index, epoch_from), the epoch from which that version is current; the tree as of epoch E takes, for
// each index, the row with the greatest epoch_from <= E, which the primary key's order serves directly.
// Tables whose rows are small and looked up by their key are WITHOUT ROWID; tables holding
// protocol messages or ciphertexts of unbounded size keep a rowid (large rows belong in a rowid table).
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE tenants (
  tenant_id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE api_keys (
  key_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  key_hash BLOB NOT NULL UNIQUE,
  revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE tenant_credential_keys (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  public_key BLOB NOT NULL,
  UNIQUE (tenant_id, public_key)
);

CREATE TABLE request_nonces (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  member_id TEXT NOT NULL,
  nonce BLOB NOT NULL,
  expires_unix_millis INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, member_id, nonce)
) WITHOUT ROWID;
CREATE INDEX request_nonces_by_expiry ON request_nonces (expires_unix_millis);

CREATE TABLE identities (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  member_id TEXT NOT NULL,
  credential BLOB NOT NULL,
  PRIMARY KEY (tenant_id, member_id)
);

CREATE TABLE signed_prekeys (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  member_id TEXT NOT NULL,
  prekey_id INTEGER NOT NULL,
  expiry_unix_seconds INTEGER NOT NULL,
  prekey BLOB NOT NULL,
  PRIMARY KEY (tenant_id, member_id)
);

CREATE TABLE one_time_prekeys (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  member_id TEXT NOT NULL,
  prekey_id INTEGER NOT NULL,
  prekey BLOB NOT NULL,
  PRIMARY KEY (tenant_id, member_id, prekey_id)
);

CREATE TABLE groups (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  group_id TEXT NOT NULL,
  current_epoch INTEGER NOT NULL,
  last_message_sequence INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, group_id)
) WITHOUT ROWID;

CREATE TABLE group_epochs (
  tenant_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  leaf_count INTEGER NOT NULL,
  tree_hash BLOB NOT NULL,
  interim_transcript_hash BLOB NOT NULL,
  leftmost_blank_leaf INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, group_id, epoch),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
) WITHOUT ROWID;

CREATE TABLE nodes (
  tenant_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  node INTEGER NOT NULL,
  epoch_from INTEGER NOT NULL,
  public_key BLOB NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (tenant_id, group_id, node, epoch_from),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
) WITHOUT ROWID;

CREATE TABLE leaves (
  tenant_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  leaf INTEGER NOT NULL,
  epoch_from INTEGER NOT NULL,
  member_id TEXT NOT NULL,
  credential BLOB NOT NULL,
  credential_hash BLOB NOT NULL,
  signing_key BLOB NOT NULL,
  keyed_by INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, group_id, leaf, epoch_from),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);
CREATE INDEX leaves_by_member ON leaves (tenant_id, group_id, member_id);

CREATE TABLE commits (
  tenant_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (tenant_id, group_id, epoch),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);

CREATE TABLE messages (
  tenant_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  body BLOB NOT NULL,
  posted_unix_millis INTEGER NOT NULL,
  expires_unix_millis INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, group_id, sequence),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);
CREATE INDEX messages_by_expiry ON messages (expires_unix_millis);

CREATE TABLE welcomes (
  welcome_id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  body BLOB NOT NULL,
  FOREIGN KEY (tenant_id, group_id, epoch) REFERENCES commits (tenant_id, group_id, epoch)
);
CREATE INDEX welcomes_by_member ON welcomes (tenant_id, member_id);

CREATE TABLE state_blobs (
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  member_id TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  ciphertext BLOB NOT NULL,
  PRIMARY KEY (tenant_id, member_id, name)
);
)sql",
    // 2: client certificates bound to tenants (by SHA-256 of the certificate's DER encoding).
    R"sql(
CREATE TABLE client_certificates (
  fingerprint BLOB NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id)
) WITHOUT ROWID;
)sql",
    // 3: members' alarms about accepted commits, one per (group, epoch, reporter).
    R"sql(
CREATE TABLE alarms (
  alarm_id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  group_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  reporter_member_id TEXT NOT NULL,
  reason INTEGER NOT NULL,
  detail TEXT NOT NULL,
  reported_unix_millis INTEGER NOT NULL,
  UNIQUE (tenant_id, group_id, epoch, reporter_member_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);
CREATE INDEX alarms_by_tenant ON alarms (tenant_id, alarm_id);
)sql",
};

constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// ---- Dialect ----

// The versioned tables' queries, spelled once per table from literals at compile time:
//   kOneAsOf: one index as of an epoch, the newest version not after it (a backwards range scan of
//             the primary key (tenant_id, group_id, index, epoch_from));
//   kAllAsOf: every index as of an epoch (a correlated subquery served by the same key).
#define ARTD_VERSIONED_QUERIES(table, index, columns)                                              \
  static constexpr const char* kOneAsOf =                                                         \
      "SELECT " columns " FROM " table " WHERE tenant_id = ?1 AND group_id = ?2 AND " index        \
      " = ?3 AND epoch_from <= ?4 ORDER BY epoch_from DESC LIMIT 1";                              \
  static constexpr const char* kAllAsOf =                                                         \
      "SELECT " columns " FROM " table " AS outer_row WHERE tenant_id = ?1 AND group_id = ?2 "     \
      "AND epoch_from = (SELECT MAX(v.epoch_from) FROM " table " AS v WHERE v.tenant_id = ?1 "     \
      "AND v.group_id = ?2 AND v." index " = outer_row." index " AND v.epoch_from <= ?3) "         \
      "ORDER BY " index

struct NodeQueries : sql::NodeColumns {
  ARTD_VERSIONED_QUERIES("nodes", "node", "node, public_key, hash");
};

struct LeafQueries : sql::LeafColumns {
  ARTD_VERSIONED_QUERIES("leaves", "leaf", "leaf, member_id, credential, credential_hash, signing_key, keyed_by");
};

#undef ARTD_VERSIONED_QUERIES

// What SQLite spells its own way (see storage/sql/sql_store.h). All writes go through one writer
// transaction at a time (BEGIN IMMEDIATE), so plain reads inside a write are already serialized.
struct SqliteDialect {
  using Connection = sqlite::Connection;
  static constexpr bool kConcurrentWriters = false;
  static constexpr const char* kCredentialKeysInOrder =
      "SELECT public_key FROM tenant_credential_keys WHERE tenant_id = ?1 ORDER BY rowid";
  using NodeTable = NodeQueries;
  using LeafTable = LeafQueries;
  // One primary-key lookup per listed index.
  template <typename Table>
  static absl::StatusOr<std::vector<typename Table::Record>> LoadListed(Connection& c, const std::string& tenant_id,
                                                                        const std::string& group_id, uint64_t epoch,
                                                                        absl::Span<const uint32_t> indices) {
    std::vector<typename Table::Record> records;
    records.reserve(indices.size());
    for (uint32_t index : indices) {
      ART_ASSIGN_OR_RETURN(std::optional<typename Table::Record> record,
                           sql::QueryOne<typename Table::Record>(
                               c, Table::kOneAsOf, [](const Statement& s) { return Table::Read(s); }, tenant_id,
                               group_id, index, epoch));
      if (record) records.push_back(*std::move(record));
    }
    return records;
  }
};

// Brings the schema to kSchemaVersion, one migration per BEGIN IMMEDIATE transaction. The version is
// read inside the transaction, after the write lock is held, so two processes opening a new file at
// once apply each migration exactly once: the second sees the first's row and moves on.
absl::Status Migrate(Connection& connection) {
  for (;;) {
    ART_ASSIGN_OR_RETURN(
        bool up_to_date,
        sqlite::InTransaction(connection, TransactionKind::kWrite, [](Connection& c) -> absl::StatusOr<bool> {
          ART_RETURN_IF_ERROR(
              c.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
          ART_ASSIGN_OR_RETURN(std::optional<int64_t> version,
                               sql::QueryInt(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
          const int64_t current = version.value_or(0);
          if (current > kSchemaVersion) {
            return absl::FailedPreconditionError(absl::StrCat("database schema version ", current,
                                                              " is newer than this binary's (",
                                                              kSchemaVersion, ")"));
          }
          if (current == kSchemaVersion) return true;
          ART_RETURN_IF_ERROR(c.Exec(kMigrations[current]));
          ART_RETURN_IF_ERROR(c.Run("INSERT INTO schema_migrations (version, applied_at) "
                                    "VALUES (?1, CAST(strftime('%s', 'now') AS INTEGER))",
                                    current + 1)
                                  .status());
          return current + 1 == kSchemaVersion;
        }));
    if (up_to_date) return absl::OkStatus();
  }
}


// ---- The store ----

class SqliteStore final : public sql::SqlStore<SqliteDialect> {
 public:
  SqliteStore(const std::string& path, const SqliteStoreOptions& options)
      : pool_(path, options.max_connections, options.busy_timeout_ms),
        // A file gets a connection of its own for the write batches, so that a batch never waits
        // for a pooled connection behind the readers; ":memory:" has only the one connection.
        writer_pool_(path == ":memory:" || path.empty()
                         ? nullptr
                         : std::make_unique<ConnectionPool>(path, 1, options.busy_timeout_ms)),
        writer_([this] { RunWriter(); }) {}

  // Runs the writes already queued, then stops the writer thread.
  ~SqliteStore() override {
    {
      absl::MutexLock lock(&batch_mu_);
      stopping_ = true;
      writer_wake_.Signal();
    }
    writer_.join();
  }

  absl::Status Init() {
    ART_ASSIGN_OR_RETURN(ConnectionPool::Lease connection, pool_.Acquire());
    return Migrate(*connection);
  }

 private:
  // One read transaction on a pooled connection; readers never wait for writers (WAL).
  absl::Status RunRead(absl::FunctionRef<absl::Status(Connection&)> body) override {
    absl::StatusOr<ConnectionPool::Lease> connection = pool_.Acquire();
    if (!connection.ok()) return connection.status();
    return sqlite::InTransaction(**connection, TransactionKind::kRead, body);
  }

  // Group commit: writes queue for the store's writer thread, which runs every write waiting when it
  // is free as one batch, in a single BEGIN IMMEDIATE transaction with one fsync, each body inside its
  // own SAVEPOINT so that a body that fails (an aborted compare-and-swap, say) undoes only its own
  // changes. Nothing is acknowledged before the batch's COMMIT has returned.
  absl::Status RunWrite(absl::FunctionRef<absl::Status(Connection&)> body) override {
    PendingWrite write(body);
    RunInBatch(&write);
    // A body that failed on its own reports its own error; otherwise the batch's outcome decides.
    if (write.body_status.has_value() && !write.body_status->ok()) return *write.body_status;
    if (!write.commit_status.ok()) return write.commit_status;
    if (!write.body_status.has_value()) return absl::InternalError("write did not run");
    return absl::OkStatus();
  }

  // A write waiting for its batch. |done| is guarded by batch_mu_. Each has its own condition
  // variable, so that the end of a batch wakes only the writers it acknowledged.
  struct PendingWrite {
    explicit PendingWrite(absl::FunctionRef<absl::Status(Connection&)> body) : run(body) {}
    absl::FunctionRef<absl::Status(Connection&)> run;
    std::optional<absl::Status> body_status;  // Set once the body has run in a batch.
    absl::Status commit_status;  // Of the batch this write ran in.
    bool done = false;
    absl::CondVar changed;
  };

  // Queues |write| for the writer thread and waits until its batch has ended.
  void RunInBatch(PendingWrite* write) {
    absl::MutexLock lock(&batch_mu_);
    waiting_writes_.push_back(write);
    writer_wake_.Signal();
    while (!write->done) write->changed.Wait(&batch_mu_);
  }

  // The writer thread. One thread that only writes, rather than a leader picked among the waiting
  // request threads: a leader had to hand the lead on at the end of each batch (a thread wake-up on
  // the serial path) and competed for a core with every request thread; under 64 clients the writer
  // thread gave 19-47% more commits per second (bench/README.md, "Fourth session").
  void RunWriter() {
    pthread_setname_np(pthread_self(), "sqlite-writer");  // As top -H and perf show it.
    absl::MutexLock lock(&batch_mu_);
    while (true) {
      while (waiting_writes_.empty() && !stopping_) writer_wake_.Wait(&batch_mu_);
      if (waiting_writes_.empty()) return;  // Stopping, and nothing is left to write.
      std::vector<PendingWrite*> batch;
      batch.swap(waiting_writes_);
      batch_mu_.Unlock();
      const absl::Status status = RunBatch(batch);
      batch_mu_.Lock();
      for (PendingWrite* done : batch) {
        done->commit_status = status;
        done->done = true;
        done->changed.Signal();
      }
    }
  }

  // Runs |batch| in one transaction and returns its outcome: a failed batch fails every write in it
  // (Write reports a body's own failure first).
  absl::Status RunBatch(const std::vector<PendingWrite*>& batch) {
    absl::Status status;
    absl::StatusOr<ConnectionPool::Lease> lease = writer_pool_ != nullptr ? writer_pool_->Acquire() : pool_.Acquire();
    if (!lease.ok()) {
      status = lease.status();
    } else {
      Connection& c = **lease;
      status = c.Control("BEGIN IMMEDIATE");
      for (size_t i = 0; status.ok() && i < batch.size(); ++i) {
        status = c.Control("SAVEPOINT write");
        if (!status.ok()) break;
        const absl::Status& body = batch[i]->body_status.emplace(batch[i]->run(c));
        if (body.ok()) {
          status = c.Control("RELEASE write");
        } else {
          // The body's own failure is its result; its changes are undone and the batch goes on.
          status = c.Control("ROLLBACK TO write");
          if (status.ok()) status = c.Control("RELEASE write");
        }
      }
      if (status.ok()) status = c.Control("COMMIT");
      if (!status.ok() && c.InTransaction()) c.Control("ROLLBACK").IgnoreError();
    }
    return status;
  }

  ConnectionPool pool_;
  std::unique_ptr<ConnectionPool> writer_pool_;  // Null for ":memory:" (batches use pool_).
  absl::Mutex batch_mu_;
  std::vector<PendingWrite*> waiting_writes_ ABSL_GUARDED_BY(batch_mu_);
  bool stopping_ ABSL_GUARDED_BY(batch_mu_) = false;
  absl::CondVar writer_wake_;  // Signalled when a write is queued or the store stops.
  std::thread writer_;         // Last: starts once everything it uses is constructed.
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                       const SqliteStoreOptions& options) {
  auto store = std::make_unique<SqliteStore>(path, options);
  ART_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

int SqliteSchemaVersion() { return kSchemaVersion; }

}  // namespace artd
