#include "storage/sqlite/sqlite_store.h"

#include <pthread.h>

#include <cstdint>
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
#include "storage/group_view_read.h"
#include "storage/shared_sql.h"
#include "storage/sqlite/sqlite_db.h"

namespace artd {
namespace {

using sqlite::AsBlob;
using sqlite::Connection;
using sqlite::ConnectionPool;
using sqlite::Statement;
using sqlite::TransactionKind;

constexpr uint32_t kNoLeafValue = 0xffffffffu;

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
};

constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// ---- Query helpers ----

// The first row read by |read|, or nullopt when there is none. The statement is reset on return, so
// a write with RETURNING has completed and nothing is left pending before COMMIT.
template <typename T, typename Read, typename... Args>
absl::StatusOr<std::optional<T>> QueryOne(Connection& c, const char* sql, Read read, const Args&... args) {
  ART_ASSIGN_OR_RETURN(Statement statement, c.Query(sql, args...));
  ART_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return std::optional<T>();
  return std::optional<T>(read(statement));
}

// Every row, each read by |read|.
template <typename T, typename Read, typename... Args>
absl::StatusOr<std::vector<T>> QueryAll(Connection& c, const char* sql, Read read, const Args&... args) {
  ART_ASSIGN_OR_RETURN(Statement statement, c.Query(sql, args...));
  std::vector<T> rows;
  for (;;) {
    ART_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return rows;
    rows.push_back(read(statement));
  }
}

// The first column of the first row as an integer.
template <typename... Args>
absl::StatusOr<std::optional<int64_t>> QueryInt(Connection& c, const char* sql, const Args&... args) {
  return QueryOne<int64_t>(c, sql, [](const Statement& s) { return s.Int(0); }, args...);
}

// Runs a write that must not fail with ALREADY_EXISTS; if it does, the error says what exists.
template <typename... Args>
absl::Status Insert(Connection& c, const std::string& already_exists_message, const char* sql,
                    const Args&... args) {
  absl::StatusOr<int> changed = c.Run(sql, args...);
  if (absl::IsAlreadyExists(changed.status())) return absl::AlreadyExistsError(already_exists_message);
  return changed.status();
}

std::string Quote(const std::string& id) { return absl::StrCat("\"", id, "\""); }

// Records a request nonce; ALREADY_EXISTS when it was used before.
absl::Status ClaimNonce(Connection& c, const std::string& tenant_id, const RequestNonce& nonce) {
  return Insert(c, absl::StrCat("request nonce of member ", Quote(nonce.member_id), " was already used"),
                "INSERT INTO request_nonces (tenant_id, member_id, nonce, expires_unix_millis) "
                "VALUES (?1, ?2, ?3, ?4)",
                tenant_id, nonce.member_id, AsBlob(nonce.nonce), nonce.expires_unix_millis);
}

absl::Status GroupNotFound(const std::string& group_id) {
  return absl::NotFoundError(absl::StrCat("group ", Quote(group_id), " not found"));
}

absl::Status RequireTenant(Connection& c, const std::string& tenant_id) {
  ART_ASSIGN_OR_RETURN(std::optional<int64_t> found,
                       QueryInt(c, "SELECT 1 FROM tenants WHERE tenant_id = ?1", tenant_id));
  if (!found) return absl::NotFoundError(absl::StrCat("tenant ", Quote(tenant_id), " not found"));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> CurrentEpoch(Connection& c, const std::string& tenant_id,
                                      const std::string& group_id) {
  ART_ASSIGN_OR_RETURN(
      std::optional<int64_t> epoch,
      QueryInt(c, "SELECT current_epoch FROM groups WHERE tenant_id = ?1 AND group_id = ?2", tenant_id,
               group_id));
  if (!epoch) return GroupNotFound(group_id);
  return static_cast<uint64_t>(*epoch);
}

GroupHeaderRecord ReadHeader(const Statement& s) {
  GroupHeaderRecord header;
  header.epoch = s.Uint(0);
  header.leaf_count = s.Uint32(1);
  header.tree_hash = s.BlobBytes(2);
  header.interim_transcript_hash = s.BlobBytes(3);
  header.leftmost_blank_leaf = s.Uint32(4);
  return header;
}

// The header at |epoch|: NOT_FOUND naming the group when it does not exist, else naming the epoch.
absl::StatusOr<GroupHeaderRecord> HeaderAt(Connection& c, const std::string& tenant_id,
                                           const std::string& group_id, uint64_t epoch) {
  ART_ASSIGN_OR_RETURN(
      std::optional<GroupHeaderRecord> header,
      QueryOne<GroupHeaderRecord>(
          c,
          "SELECT epoch, leaf_count, tree_hash, interim_transcript_hash, leftmost_blank_leaf "
          "FROM group_epochs WHERE tenant_id = ?1 AND group_id = ?2 AND epoch = ?3",
          ReadHeader, tenant_id, group_id, epoch));
  if (header) return *std::move(header);
  ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
  return absl::NotFoundError(
      absl::StrCat("epoch ", epoch, " of group ", Quote(group_id), " is not retained"));
}

// The versioned tables, so nodes and leaves share one loading path. The queries are spelled once
// and instantiated per table from literals at compile time (nothing is formatted at run time):
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

struct NodeTable {
  using Record = NodeRecord;
  ARTD_VERSIONED_QUERIES("nodes", "node", "node, public_key, hash");
  static NodeRecord Read(const Statement& s) { return NodeRecord{s.Uint32(0), s.BlobBytes(1), s.BlobBytes(2)}; }
};

struct LeafTable {
  using Record = LeafRecord;
  ARTD_VERSIONED_QUERIES("leaves", "leaf", "leaf, member_id, credential, credential_hash, signing_key, keyed_by");
  static LeafRecord Read(const Statement& s) {
    return LeafRecord{s.Uint32(0), s.Text(1), s.BlobString(2), s.BlobBytes(3), s.BlobBytes(4), s.Uint32(5)};
  }
};

#undef ARTD_VERSIONED_QUERIES

template <typename Table>
absl::StatusOr<std::vector<typename Table::Record>> LoadSome(Connection& c, const std::string& tenant_id,
                                                             const std::string& group_id, uint64_t epoch,
                                                             absl::Span<const uint32_t> indices) {
  std::vector<typename Table::Record> records;
  records.reserve(indices.size());
  for (uint32_t index : indices) {
    ART_ASSIGN_OR_RETURN(
        std::optional<typename Table::Record> record,
        QueryOne<typename Table::Record>(c, Table::kOneAsOf, Table::Read, tenant_id, group_id, index, epoch));
    if (record) records.push_back(*std::move(record));
  }
  return records;
}

template <typename Table>
absl::StatusOr<std::vector<typename Table::Record>> LoadAll(Connection& c, const std::string& tenant_id,
                                                            const std::string& group_id, uint64_t epoch) {
  return QueryAll<typename Table::Record>(c, Table::kAllAsOf, Table::Read, tenant_id, group_id, epoch);
}

// Writes everything one epoch adds: its header, the new node and leaf versions (current from that
// epoch on) and the commit that created it (the Setup for epoch 0).
absl::Status InsertEpoch(Connection& c, const std::string& tenant_id, const std::string& group_id,
                         const GroupHeaderRecord& header, const std::vector<NodeRecord>& nodes,
                         const std::vector<LeafRecord>& leaves, const std::string& commit) {
  const uint64_t epoch = header.epoch;
  ART_RETURN_IF_ERROR(
      c.Run("INSERT INTO group_epochs (tenant_id, group_id, epoch, leaf_count, tree_hash, "
            "interim_transcript_hash, leftmost_blank_leaf) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            tenant_id, group_id, epoch, header.leaf_count, AsBlob(header.tree_hash),
            AsBlob(header.interim_transcript_hash), header.leftmost_blank_leaf)
          .status());
  for (const NodeRecord& node : nodes) {
    ART_RETURN_IF_ERROR(Insert(c, absl::StrCat("node ", node.node, " is listed twice"),
                               "INSERT INTO nodes (tenant_id, group_id, node, epoch_from, public_key, hash) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               tenant_id, group_id, node.node, epoch, AsBlob(node.public_key),
                               AsBlob(node.hash)));
  }
  for (const LeafRecord& leaf : leaves) {
    ART_RETURN_IF_ERROR(Insert(c, absl::StrCat("leaf ", leaf.leaf, " is listed twice"),
                               "INSERT INTO leaves (tenant_id, group_id, leaf, epoch_from, member_id, "
                               "credential, credential_hash, signing_key, keyed_by) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                               tenant_id, group_id, leaf.leaf, epoch, leaf.member_id,
                               AsBlob(leaf.credential), AsBlob(leaf.credential_hash),
                               AsBlob(leaf.signing_key), leaf.keyed_by));
  }
  return c
      .Run("INSERT INTO commits (tenant_id, group_id, epoch, body) VALUES (?1, ?2, ?3, ?4)", tenant_id,
           group_id, epoch, AsBlob(commit))
      .status();
}

absl::StatusOr<PrekeyCounts> ReadPrekeyCounts(Connection& c, const std::string& tenant_id,
                                              const std::string& member_id) {
  PrekeyCounts counts;
  ART_ASSIGN_OR_RETURN(
      std::optional<int64_t> remaining,
      QueryInt(c, "SELECT COUNT(*) FROM one_time_prekeys WHERE tenant_id = ?1 AND member_id = ?2",
               tenant_id, member_id));
  counts.one_time_remaining = static_cast<uint32_t>(remaining.value_or(0));
  ART_ASSIGN_OR_RETURN(
      std::optional<PrekeyCounts> signed_prekey,
      QueryOne<PrekeyCounts>(
          c,
          "SELECT prekey_id, expiry_unix_seconds FROM signed_prekeys "
          "WHERE tenant_id = ?1 AND member_id = ?2",
          [](const Statement& s) {
            PrekeyCounts found;
            found.signed_prekey_id = s.Uint32(0);
            found.signed_prekey_expiry_unix_seconds = s.Uint(1);
            return found;
          },
          tenant_id, member_id));
  if (signed_prekey) {
    counts.signed_prekey_id = signed_prekey->signed_prekey_id;
    counts.signed_prekey_expiry_unix_seconds = signed_prekey->signed_prekey_expiry_unix_seconds;
  }
  return counts;
}

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
                               QueryInt(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
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

class SqliteStore final : public Store {
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
  // Runs |body| in one read transaction on a pooled connection; readers never wait for writers (WAL).
  template <typename Body>
  auto Read(Body&& body) -> decltype(body(std::declval<Connection&>())) {
    absl::StatusOr<ConnectionPool::Lease> connection = pool_.Acquire();
    if (!connection.ok()) return connection.status();
    return sqlite::InTransaction(**connection, TransactionKind::kRead, body);
  }

  // Runs |body| as one atomic write. Group commit: writes queue for the store's writer thread, which
  // runs every write waiting when it is free as one batch, in a single BEGIN IMMEDIATE transaction
  // with one fsync, each body inside its own SAVEPOINT so that a body that fails (an aborted
  // compare-and-swap, say) undoes only its own changes. Nothing is acknowledged before the batch's
  // COMMIT has returned.
  template <typename Body>
  auto Write(Body&& body) -> decltype(body(std::declval<Connection&>())) {
    using Result = decltype(body(std::declval<Connection&>()));
    std::optional<Result> result;
    PendingWrite write;
    write.run = [&](Connection& c) -> absl::Status {
      result.emplace(body(c));
      return sqlite::StatusOf(*result);
    };
    RunInBatch(&write);
    // A body that failed on its own reports its own error; otherwise the batch's outcome decides.
    if (result.has_value() && !sqlite::StatusOf(*result).ok()) return *std::move(result);
    if (!write.commit_status.ok()) return write.commit_status;
    if (!result.has_value()) return absl::InternalError("write did not run");
    return *std::move(result);
  }

  // A write waiting for its batch. |done| is guarded by batch_mu_. Each has its own condition
  // variable, so that the end of a batch wakes only the writers it acknowledged.
  struct PendingWrite {
    std::function<absl::Status(Connection&)> run;
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
        absl::Status body = batch[i]->run(c);
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

  // A read of the tree as of |epoch|, refused with NOT_FOUND unless the group holds that epoch.
  template <typename Body>
  auto ReadAtEpoch(const std::string& tenant_id, const std::string& group_id, uint64_t epoch, Body&& body)
      -> decltype(body(std::declval<Connection&>())) {
    return Read([&](Connection& c) -> decltype(body(c)) {
      ART_RETURN_IF_ERROR(HeaderAt(c, tenant_id, group_id, epoch).status());
      return body(c);
    });
  }

 public:

  absl::Status CreateTenant(const std::string& tenant_id) override {
    return Write([&](Connection& c) {
      return Insert(c, absl::StrCat("tenant ", Quote(tenant_id), " already exists"),
                    "INSERT INTO tenants (tenant_id) VALUES (?1)", tenant_id);
    });
  }

  absl::Status AddApiKey(const std::string& tenant_id, const std::string& key_id,
                         const Bytes& key_hash) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Insert(c, absl::StrCat("API key ", Quote(key_id), " (or its hash) already exists"),
                    "INSERT INTO api_keys (key_id, tenant_id, key_hash) VALUES (?1, ?2, ?3)", key_id,
                    tenant_id, AsBlob(key_hash));
    });
  }

  absl::Status RevokeApiKey(const std::string& key_id) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_ASSIGN_OR_RETURN(int changed, c.Run("UPDATE api_keys SET revoked = 1 WHERE key_id = ?1", key_id));
      if (changed == 0) return absl::NotFoundError(absl::StrCat("API key ", Quote(key_id), " not found"));
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::string> TenantForApiKey(const Bytes& key_hash) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::string> {
      ART_ASSIGN_OR_RETURN(
          std::optional<std::string> tenant,
          QueryOne<std::string>(c, "SELECT tenant_id FROM api_keys WHERE key_hash = ?1 AND revoked = 0",
                                [](const Statement& s) { return s.Text(0); }, AsBlob(key_hash)));
      // The key's hash is not echoed: it identifies a credential.
      if (!tenant) return absl::NotFoundError("API key not found or revoked");
      return *std::move(tenant);
    });
  }

  absl::Status AddTenantCredentialKey(const std::string& tenant_id, const Bytes& public_key) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Insert(c, absl::StrCat("tenant ", Quote(tenant_id), " already has this credential key"),
                    "INSERT INTO tenant_credential_keys (tenant_id, public_key) VALUES (?1, ?2)",
                    tenant_id, AsBlob(public_key));
    });
  }

  absl::StatusOr<std::vector<Bytes>> TenantCredentialKeys(const std::string& tenant_id) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<Bytes>> {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return QueryAll<Bytes>(
          c, "SELECT public_key FROM tenant_credential_keys WHERE tenant_id = ?1 ORDER BY rowid",
          [](const Statement& s) { return s.BlobBytes(0); }, tenant_id);
    });
  }

  absl::Status BindClientCertificate(const std::string& tenant_id, const Bytes& fingerprint) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Insert(c, "this client certificate is already bound to a tenant",
                    "INSERT INTO client_certificates (fingerprint, tenant_id) VALUES (?1, ?2)",
                    AsBlob(fingerprint), tenant_id);
    });
  }

  absl::Status UnbindClientCertificate(const Bytes& fingerprint) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_ASSIGN_OR_RETURN(int changed,
                           c.Run("DELETE FROM client_certificates WHERE fingerprint = ?1", AsBlob(fingerprint)));
      if (changed == 0) return absl::NotFoundError("client certificate not bound");
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::string> TenantForClientCertificate(const Bytes& fingerprint) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::string> {
      ART_ASSIGN_OR_RETURN(
          std::optional<std::string> tenant,
          QueryOne<std::string>(c, "SELECT tenant_id FROM client_certificates WHERE fingerprint = ?1",
                                [](const Statement& s) { return s.Text(0); }, AsBlob(fingerprint)));
      if (!tenant) return absl::NotFoundError("client certificate not bound");
      return *std::move(tenant);
    });
  }

  absl::StatusOr<std::vector<TenantUsage>> CountTenantUsage() override {
    return Read([&](Connection& c) {
      return QueryAll<TenantUsage>(c, kTenantUsageSql, [](const Statement& s) {
        return TenantUsage{s.Text(0), s.Uint(1), s.Uint(2)};
      });
    });
  }

  absl::Status RecordRequestNonce(const std::string& tenant_id, const std::string& member_id,
                                  const Bytes& nonce, uint64_t expires_unix_millis) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return ClaimNonce(c, tenant_id, RequestNonce{member_id, nonce, expires_unix_millis});
    });
  }

  absl::Status PutIdentity(const std::string& tenant_id, const std::string& member_id,
                           const std::string& credential) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      ART_ASSIGN_OR_RETURN(std::optional<std::string> existing, IdentityOf(c, tenant_id, member_id));
      if (existing) {
        if (*existing == credential) return absl::OkStatus();
        return absl::AlreadyExistsError(
            absl::StrCat("member ", Quote(member_id), " already has a different identity"));
      }
      return c
          .Run("INSERT INTO identities (tenant_id, member_id, credential) VALUES (?1, ?2, ?3)", tenant_id,
               member_id, AsBlob(credential))
          .status();
    });
  }

  absl::StatusOr<std::string> GetIdentity(const std::string& tenant_id, const std::string& member_id) override {
    return Read([&](Connection& c) { return RequireIdentity(c, tenant_id, member_id); });
  }

  absl::StatusOr<PrekeyCounts> PutPrekeys(const std::string& tenant_id, const std::string& member_id,
                                          const std::string& signed_prekey, uint32_t signed_prekey_id,
                                          uint64_t signed_prekey_expiry,
                                          const std::vector<std::pair<uint32_t, std::string>>& one_time_prekeys,
                                          uint32_t max_one_time) override {
    // All or nothing: any error below rolls back the signed prekey and every one-time prekey.
    return Write([&](Connection& c) -> absl::StatusOr<PrekeyCounts> {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      if (!signed_prekey.empty()) {
        ART_RETURN_IF_ERROR(
            c.Run("INSERT INTO signed_prekeys (tenant_id, member_id, prekey_id, expiry_unix_seconds, prekey) "
                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant_id, member_id) DO UPDATE SET "
                  "prekey_id = excluded.prekey_id, expiry_unix_seconds = excluded.expiry_unix_seconds, "
                  "prekey = excluded.prekey",
                  tenant_id, member_id, signed_prekey_id, signed_prekey_expiry, AsBlob(signed_prekey))
                .status());
      }
      for (const auto& [id, prekey] : one_time_prekeys) {
        ART_RETURN_IF_ERROR(
            Insert(c, absl::StrCat("one-time prekey ", id, " of member ", Quote(member_id), " already exists"),
                   "INSERT INTO one_time_prekeys (tenant_id, member_id, prekey_id, prekey) "
                   "VALUES (?1, ?2, ?3, ?4)",
                   tenant_id, member_id, id, AsBlob(prekey)));
      }
      ART_ASSIGN_OR_RETURN(PrekeyCounts counts, ReadPrekeyCounts(c, tenant_id, member_id));
      if (counts.one_time_remaining > max_one_time) {
        return absl::ResourceExhaustedError(absl::StrCat("member ", Quote(member_id), " would hold ",
                                                         counts.one_time_remaining,
                                                         " one-time prekeys; the limit is ", max_one_time));
      }
      return counts;
    });
  }

  absl::StatusOr<PrekeyCounts> CountPrekeys(const std::string& tenant_id, const std::string& member_id) override {
    return Read([&](Connection& c) { return ReadPrekeyCounts(c, tenant_id, member_id); });
  }

  absl::StatusOr<TakenBundle> TakePrekeyBundle(const std::string& tenant_id, const std::string& member_id) override {
    // A write transaction even when no one-time prekey is left: the read of the lowest id and its
    // deletion must not interleave with another taker's.
    return Write([&](Connection& c) -> absl::StatusOr<TakenBundle> {
      TakenBundle bundle;
      ART_ASSIGN_OR_RETURN(bundle.credential, RequireIdentity(c, tenant_id, member_id));
      ART_ASSIGN_OR_RETURN(
          std::optional<std::string> signed_prekey,
          QueryOne<std::string>(c, "SELECT prekey FROM signed_prekeys WHERE tenant_id = ?1 AND member_id = ?2",
                                ReadBlobString, tenant_id, member_id));
      if (!signed_prekey) {
        return absl::NotFoundError(absl::StrCat("member ", Quote(member_id), " has no signed prekey"));
      }
      bundle.signed_prekey = *std::move(signed_prekey);
      ART_ASSIGN_OR_RETURN(
          std::optional<std::string> one_time,
          QueryOne<std::string>(
              c,
              "DELETE FROM one_time_prekeys WHERE tenant_id = ?1 AND member_id = ?2 AND prekey_id = ("
              "  SELECT MIN(prekey_id) FROM one_time_prekeys WHERE tenant_id = ?1 AND member_id = ?2) "
              "RETURNING prekey",
              ReadBlobString, tenant_id, member_id));
      bundle.one_time_prekey = one_time.value_or(std::string());
      return bundle;
    });
  }

  absl::Status CreateGroup(const std::string& tenant_id, const std::string& group_id,
                           const GroupHeaderRecord& header, const std::vector<LeafRecord>& leaves,
                           const std::vector<NodeRecord>& nodes, const std::string& setup) override {
    if (header.epoch != 0) {
      return absl::InvalidArgumentError(absl::StrCat("a new group starts at epoch 0, not ", header.epoch));
    }
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      ART_RETURN_IF_ERROR(Insert(c, absl::StrCat("group ", Quote(group_id), " already exists"),
                                 "INSERT INTO groups (tenant_id, group_id, current_epoch) VALUES (?1, ?2, 0)",
                                 tenant_id, group_id));
      return InsertEpoch(c, tenant_id, group_id, header, nodes, leaves, setup);
    });
  }

  absl::StatusOr<GroupHeaderRecord> GroupHeader(const std::string& tenant_id, const std::string& group_id,
                                                std::optional<uint64_t> epoch) override {
    return Read([&](Connection& c) -> absl::StatusOr<GroupHeaderRecord> {
      if (epoch) return HeaderAt(c, tenant_id, group_id, *epoch);
      ART_ASSIGN_OR_RETURN(uint64_t current, CurrentEpoch(c, tenant_id, group_id));
      return HeaderAt(c, tenant_id, group_id, current);
    });
  }

  absl::StatusOr<GroupView> ReadGroupView(
      const std::string& tenant_id, const std::string& group_id,
      absl::FunctionRef<absl::StatusOr<TreeSelection>(const GroupHeaderRecord&)> select) override {
    return Read([&](Connection& c) {
      return ReadGroupViewIn<&CurrentEpoch, &HeaderAt, &LoadSome<NodeTable>, &LoadSome<LeafTable>>(
          c, tenant_id, group_id, select);
    });
  }

  absl::Status LoadTree(const std::string& tenant_id, const std::string& group_id, uint64_t epoch,
                        std::vector<NodeRecord>* nodes, std::vector<LeafRecord>* leaves) override {
    return ReadAtEpoch(tenant_id, group_id, epoch, [&](Connection& c) -> absl::Status {
      // Both in one read transaction, so they are the same snapshot.
      ART_ASSIGN_OR_RETURN(*nodes, LoadAll<NodeTable>(c, tenant_id, group_id, epoch));
      ART_ASSIGN_OR_RETURN(*leaves, LoadAll<LeafTable>(c, tenant_id, group_id, epoch));
      return absl::OkStatus();
    });
  }

  absl::StatusOr<uint32_t> FindMemberLeaf(const std::string& tenant_id, const std::string& group_id,
                                          const std::string& member_id) override {
    return Read([&](Connection& c) -> absl::StatusOr<uint32_t> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      if (member_id.empty()) return kNoLeafValue;  // Blank leaves have an empty member id.
      // Candidate rows come from the member index; a candidate counts only if it is still its leaf's
      // newest version (no version is ever newer than the current epoch).
      ART_ASSIGN_OR_RETURN(
          std::optional<int64_t> leaf,
          QueryInt(c,
                   "SELECT l.leaf FROM leaves AS l "
                   "WHERE l.tenant_id = ?1 AND l.group_id = ?2 AND l.member_id = ?3 AND l.epoch_from = ("
                   "  SELECT MAX(v.epoch_from) FROM leaves AS v "
                   "  WHERE v.tenant_id = ?1 AND v.group_id = ?2 AND v.leaf = l.leaf) "
                   "ORDER BY l.leaf LIMIT 1",
                   tenant_id, group_id, member_id));
      return leaf ? static_cast<uint32_t>(*leaf) : kNoLeafValue;
    });
  }

  absl::Status ApplyCommit(const std::string& tenant_id, const std::string& group_id,
                           const CommitWrite& write) override {
    // Epochs are stored as SQLite's signed 64-bit integers; the protocol stops far below this anyway.
    if (write.expected_epoch >= sqlite::kMaxStoredUint) {
      return absl::OutOfRangeError(absl::StrCat("epoch ", write.expected_epoch, " is too large"));
    }
    if (write.new_header.epoch != write.expected_epoch + 1) {
      return absl::InvalidArgumentError(absl::StrCat("a commit from epoch ", write.expected_epoch,
                                                     " must create epoch ", write.expected_epoch + 1,
                                                     ", not ", write.new_header.epoch));
    }
    if (write.welcome.empty() != write.welcome_member_id.empty()) {
      return absl::InvalidArgumentError("a Welcome needs both its body and its member id");
    }
    return Write([&](Connection& c) -> absl::Status {
      // A replayed nonce fails first and the commit changes nothing (as AppendMessage).
      if (write.nonce.has_value()) ART_RETURN_IF_ERROR(ClaimNonce(c, tenant_id, *write.nonce));
      // The compare-and-swap: read under the write lock (BEGIN IMMEDIATE), so no other writer can move
      // the epoch between this check and the UPDATE below.
      ART_ASSIGN_OR_RETURN(uint64_t current, CurrentEpoch(c, tenant_id, group_id));
      if (current != write.expected_epoch) {
        return absl::AbortedError(absl::StrCat("group ", Quote(group_id), " is at current epoch ", current,
                                               ", not ", write.expected_epoch));
      }
      const uint64_t epoch = write.new_header.epoch;
      ART_RETURN_IF_ERROR(
          InsertEpoch(c, tenant_id, group_id, write.new_header, write.nodes, write.leaves, write.commit));
      if (!write.welcome.empty()) {
        ART_RETURN_IF_ERROR(c.Run("INSERT INTO welcomes (tenant_id, member_id, group_id, epoch, body) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5)",
                                  tenant_id, write.welcome_member_id, group_id, epoch, AsBlob(write.welcome))
                                .status());
      }
      return c
          .Run("UPDATE groups SET current_epoch = ?3 WHERE tenant_id = ?1 AND group_id = ?2", tenant_id,
               group_id, epoch)
          .status();
    });
  }

  absl::StatusOr<uint32_t> NextBlankLeaf(const std::string& tenant_id, const std::string& group_id,
                                         uint32_t from_leaf) override {
    return Read([&](Connection& c) -> absl::StatusOr<uint32_t> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      // As FindMemberLeaf: blank leaves have an empty member id; only a leaf's newest version counts.
      ART_ASSIGN_OR_RETURN(
          std::optional<int64_t> leaf,
          QueryInt(c,
                   "SELECT l.leaf FROM leaves AS l "
                   "WHERE l.tenant_id = ?1 AND l.group_id = ?2 AND l.member_id = '' AND l.leaf >= ?3 "
                   "AND l.epoch_from = ("
                   "  SELECT MAX(v.epoch_from) FROM leaves AS v "
                   "  WHERE v.tenant_id = ?1 AND v.group_id = ?2 AND v.leaf = l.leaf) "
                   "ORDER BY l.leaf LIMIT 1",
                   tenant_id, group_id, from_leaf));
      return leaf ? static_cast<uint32_t>(*leaf) : kNoLeafValue;
    });
  }

  absl::StatusOr<StoredCommit> GetCommit(const std::string& tenant_id, const std::string& group_id,
                                         uint64_t epoch) override {
    return Read([&](Connection& c) -> absl::StatusOr<StoredCommit> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      ART_ASSIGN_OR_RETURN(
          std::vector<StoredCommit> found,
          QueryAll<StoredCommit>(
              c, "SELECT epoch, body FROM commits WHERE tenant_id = ?1 AND group_id = ?2 AND epoch = ?3",
              [](const Statement& s) { return StoredCommit{s.Uint(0), s.BlobString(1)}; }, tenant_id, group_id,
              epoch));
      if (found.empty()) {
        return absl::NotFoundError(absl::StrCat("group ", Quote(group_id), " has no commit for epoch ", epoch));
      }
      return std::move(found[0]);
    });
  }

  absl::StatusOr<std::vector<StoredCommit>> ListCommits(const std::string& tenant_id, const std::string& group_id,
                                                        uint64_t after_epoch, uint32_t limit) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<StoredCommit>> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      return QueryAll<StoredCommit>(
          c,
          "SELECT epoch, body FROM commits WHERE tenant_id = ?1 AND group_id = ?2 AND epoch > ?3 "
          "ORDER BY epoch LIMIT ?4",
          [](const Statement& s) { return StoredCommit{s.Uint(0), s.BlobString(1)}; }, tenant_id, group_id,
          after_epoch, limit);
    });
  }

  absl::StatusOr<uint64_t> AppendMessage(const std::string& tenant_id, const std::string& group_id,
                                         const std::string& message, uint64_t now_unix_millis,
                                         uint64_t expires_unix_millis, const RequestNonce* nonce) override {
    return Write([&](Connection& c) -> absl::StatusOr<uint64_t> {
      // The nonce first: a replay fails here and its savepoint undoes nothing else. (The group's
      // tenant exists when the group does, which the counter's update below checks.)
      if (nonce != nullptr) ART_RETURN_IF_ERROR(ClaimNonce(c, tenant_id, *nonce));
      // The group's counter, bumped in this transaction, so sequences are dense and never reused.
      ART_ASSIGN_OR_RETURN(std::optional<int64_t> sequence,
                           QueryInt(c,
                                    "UPDATE groups SET last_message_sequence = last_message_sequence + 1 "
                                    "WHERE tenant_id = ?1 AND group_id = ?2 RETURNING last_message_sequence",
                                    tenant_id, group_id));
      if (!sequence) return GroupNotFound(group_id);
      ART_RETURN_IF_ERROR(c.Run("INSERT INTO messages (tenant_id, group_id, sequence, body, posted_unix_millis, "
                                "expires_unix_millis) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                tenant_id, group_id, *sequence, AsBlob(message), now_unix_millis,
                                expires_unix_millis)
                              .status());
      return static_cast<uint64_t>(*sequence);
    });
  }

  absl::StatusOr<std::vector<StoredMessageRecord>> FetchMessages(const std::string& tenant_id,
                                                                 const std::string& group_id,
                                                                 uint64_t after_sequence, uint32_t limit,
                                                                 uint64_t now_unix_millis) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<StoredMessageRecord>> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      // A message is expired from its expiry instant on (the same rule as PurgeExpired).
      return QueryAll<StoredMessageRecord>(
          c,
          "SELECT sequence, body, posted_unix_millis FROM messages "
          "WHERE tenant_id = ?1 AND group_id = ?2 AND sequence > ?3 AND expires_unix_millis > ?4 "
          "ORDER BY sequence LIMIT ?5",
          [](const Statement& s) { return StoredMessageRecord{s.Uint(0), s.BlobString(1), s.Uint(2)}; },
          tenant_id, group_id, after_sequence, now_unix_millis, limit);
    });
  }

  absl::StatusOr<std::vector<StoredWelcome>> FetchWelcomes(const std::string& tenant_id,
                                                           const std::string& member_id) override {
    return Read([&](Connection& c) {
      return QueryAll<StoredWelcome>(
          c,
          "SELECT welcome_id, group_id, epoch, body FROM welcomes "
          "WHERE tenant_id = ?1 AND member_id = ?2 ORDER BY welcome_id",
          [](const Statement& s) { return StoredWelcome{s.Uint(0), s.Text(1), s.Uint(2), s.BlobString(3)}; },
          tenant_id, member_id);
    });
  }

  absl::Status DeleteWelcome(const std::string& tenant_id, const std::string& member_id,
                             uint64_t welcome_id) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_ASSIGN_OR_RETURN(int deleted,
                           c.Run("DELETE FROM welcomes WHERE tenant_id = ?1 AND member_id = ?2 AND welcome_id = ?3",
                                 tenant_id, member_id, welcome_id));
      if (deleted == 0) {
        return absl::NotFoundError(
            absl::StrCat("welcome ", welcome_id, " for member ", Quote(member_id), " not found"));
      }
      return absl::OkStatus();
    });
  }

  absl::StatusOr<uint64_t> PutStateBlob(const std::string& tenant_id, const std::string& member_id,
                                        const std::string& name, uint64_t expected_version,
                                        const std::string& ciphertext) override {
    return Write([&](Connection& c) -> absl::StatusOr<uint64_t> {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      ART_ASSIGN_OR_RETURN(
          std::optional<int64_t> stored,
          QueryInt(c, "SELECT version FROM state_blobs WHERE tenant_id = ?1 AND member_id = ?2 AND name = ?3",
                   tenant_id, member_id, name));
      const std::string blob = absl::StrCat("state blob ", Quote(name), " of member ", Quote(member_id));
      if (expected_version == 0) {
        if (stored) return absl::AlreadyExistsError(absl::StrCat(blob, " already exists"));
        ART_RETURN_IF_ERROR(c.Run("INSERT INTO state_blobs (tenant_id, member_id, name, version, ciphertext) "
                                  "VALUES (?1, ?2, ?3, 1, ?4)",
                                  tenant_id, member_id, name, AsBlob(ciphertext))
                                .status());
        return uint64_t{1};
      }
      if (!stored) {
        return absl::FailedPreconditionError(
            absl::StrCat(blob, " does not exist (expected version ", expected_version, ")"));
      }
      if (static_cast<uint64_t>(*stored) != expected_version) {
        return absl::FailedPreconditionError(
            absl::StrCat(blob, " is at version ", *stored, ", not ", expected_version));
      }
      ART_RETURN_IF_ERROR(c.Run("UPDATE state_blobs SET version = version + 1, ciphertext = ?4 "
                                "WHERE tenant_id = ?1 AND member_id = ?2 AND name = ?3",
                                tenant_id, member_id, name, AsBlob(ciphertext))
                              .status());
      return expected_version + 1;
    });
  }

  absl::StatusOr<StateBlob> GetStateBlob(const std::string& tenant_id, const std::string& member_id,
                                         const std::string& name) override {
    return Read([&](Connection& c) -> absl::StatusOr<StateBlob> {
      ART_ASSIGN_OR_RETURN(
          std::optional<StateBlob> blob,
          QueryOne<StateBlob>(
              c,
              "SELECT version, ciphertext FROM state_blobs "
              "WHERE tenant_id = ?1 AND member_id = ?2 AND name = ?3",
              [](const Statement& s) { return StateBlob{s.Uint(0), s.BlobString(1)}; }, tenant_id, member_id,
              name));
      if (!blob) {
        return absl::NotFoundError(
            absl::StrCat("state blob ", Quote(name), " of member ", Quote(member_id), " not found"));
      }
      return *std::move(blob);
    });
  }

  absl::Status PurgeExpired(uint64_t now_unix_millis) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_RETURN_IF_ERROR(
          c.Run("DELETE FROM messages WHERE expires_unix_millis <= ?1", now_unix_millis).status());
      return c.Run("DELETE FROM request_nonces WHERE expires_unix_millis <= ?1", now_unix_millis).status();
    });
  }

 private:
  static std::string ReadBlobString(const Statement& s) { return s.BlobString(0); }

  static absl::StatusOr<std::optional<std::string>> IdentityOf(Connection& c, const std::string& tenant_id,
                                                               const std::string& member_id) {
    return QueryOne<std::string>(c, "SELECT credential FROM identities WHERE tenant_id = ?1 AND member_id = ?2",
                                 ReadBlobString, tenant_id, member_id);
  }

  static absl::StatusOr<std::string> RequireIdentity(Connection& c, const std::string& tenant_id,
                                                     const std::string& member_id) {
    ART_ASSIGN_OR_RETURN(std::optional<std::string> credential, IdentityOf(c, tenant_id, member_id));
    if (!credential) {
      return absl::NotFoundError(absl::StrCat("identity of member ", Quote(member_id), " not found"));
    }
    return *std::move(credential);
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
