#include "storage/postgres/postgres_store.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "art/base/status_macros.h"
#include "storage/postgres/pg_connection.h"
#include "storage/sql/query.h"
#include "storage/sql/sql_store.h"

namespace artd {
namespace {

using postgres::Connection;
using postgres::ConnectionPool;
using postgres::IndexList;
using postgres::Result;
using postgres::TransactionKind;

// ---- Schema ----

// The migrations, in order; migration i brings the schema to version i + 1. Never edit one that has
// shipped: append a new one. Each runs in its own transaction together with its schema_migrations row.
//
// Every row is keyed by tenant_id. The tree is versioned: nodes and leaves hold one row per
// (index, epoch_from), the epoch from which that version is current; the tree as of epoch E takes, for
// each index, the row with the greatest epoch_from <= E, which the primary key's order serves directly
// (DISTINCT ON (index) ... ORDER BY index, epoch_from DESC). Integers are bigint (uint32 values such as
// the no-leaf marker 0xffffffff fit), blobs bytea, ids text (valid UTF-8).
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE tenants (
  tenant_id text PRIMARY KEY
);

CREATE TABLE api_keys (
  key_id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants (tenant_id),
  key_hash bytea NOT NULL UNIQUE,
  revoked boolean NOT NULL DEFAULT false
);

CREATE TABLE tenant_credential_keys (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants (tenant_id),
  public_key bytea NOT NULL,
  UNIQUE (tenant_id, public_key)
);

CREATE TABLE request_nonces (
  tenant_id text NOT NULL REFERENCES tenants (tenant_id),
  member_id text NOT NULL,
  nonce bytea NOT NULL,
  expires_unix_millis bigint NOT NULL,
  PRIMARY KEY (tenant_id, member_id, nonce)
);
CREATE INDEX request_nonces_by_expiry ON request_nonces (expires_unix_millis);

CREATE TABLE identities (
  tenant_id text NOT NULL REFERENCES tenants (tenant_id),
  member_id text NOT NULL,
  credential bytea NOT NULL,
  PRIMARY KEY (tenant_id, member_id)
);

CREATE TABLE signed_prekeys (
  tenant_id text NOT NULL REFERENCES tenants (tenant_id),
  member_id text NOT NULL,
  prekey_id bigint NOT NULL,
  expiry_unix_seconds bigint NOT NULL,
  prekey bytea NOT NULL,
  PRIMARY KEY (tenant_id, member_id)
);

CREATE TABLE one_time_prekeys (
  tenant_id text NOT NULL REFERENCES tenants (tenant_id),
  member_id text NOT NULL,
  prekey_id bigint NOT NULL,
  prekey bytea NOT NULL,
  PRIMARY KEY (tenant_id, member_id, prekey_id)
);

CREATE TABLE groups (
  tenant_id text NOT NULL REFERENCES tenants (tenant_id),
  group_id text NOT NULL,
  current_epoch bigint NOT NULL,
  last_message_sequence bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, group_id)
);

CREATE TABLE group_epochs (
  tenant_id text NOT NULL,
  group_id text NOT NULL,
  epoch bigint NOT NULL,
  leaf_count bigint NOT NULL,
  tree_hash bytea NOT NULL,
  interim_transcript_hash bytea NOT NULL,
  leftmost_blank_leaf bigint NOT NULL,
  PRIMARY KEY (tenant_id, group_id, epoch),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);

CREATE TABLE nodes (
  tenant_id text NOT NULL,
  group_id text NOT NULL,
  node bigint NOT NULL,
  epoch_from bigint NOT NULL,
  public_key bytea NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (tenant_id, group_id, node, epoch_from),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);

CREATE TABLE leaves (
  tenant_id text NOT NULL,
  group_id text NOT NULL,
  leaf bigint NOT NULL,
  epoch_from bigint NOT NULL,
  member_id text NOT NULL,
  credential bytea NOT NULL,
  credential_hash bytea NOT NULL,
  signing_key bytea NOT NULL,
  keyed_by bigint NOT NULL,
  PRIMARY KEY (tenant_id, group_id, leaf, epoch_from),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);
CREATE INDEX leaves_by_member ON leaves (tenant_id, group_id, member_id);

CREATE TABLE commits (
  tenant_id text NOT NULL,
  group_id text NOT NULL,
  epoch bigint NOT NULL,
  body bytea NOT NULL,
  PRIMARY KEY (tenant_id, group_id, epoch),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);

CREATE TABLE messages (
  tenant_id text NOT NULL,
  group_id text NOT NULL,
  sequence bigint NOT NULL,
  body bytea NOT NULL,
  posted_unix_millis bigint NOT NULL,
  expires_unix_millis bigint NOT NULL,
  PRIMARY KEY (tenant_id, group_id, sequence),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);
CREATE INDEX messages_by_expiry ON messages (expires_unix_millis);

CREATE TABLE welcomes (
  welcome_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id text NOT NULL,
  member_id text NOT NULL,
  group_id text NOT NULL,
  epoch bigint NOT NULL,
  body bytea NOT NULL,
  FOREIGN KEY (tenant_id, group_id, epoch) REFERENCES commits (tenant_id, group_id, epoch)
);
CREATE INDEX welcomes_by_member ON welcomes (tenant_id, member_id);

CREATE TABLE state_blobs (
  tenant_id text NOT NULL REFERENCES tenants (tenant_id),
  member_id text NOT NULL,
  name text NOT NULL,
  version bigint NOT NULL,
  ciphertext bytea NOT NULL,
  PRIMARY KEY (tenant_id, member_id, name)
);
)sql",
    // 2: client certificates bound to tenants (by SHA-256 of the certificate's DER encoding).
    R"sql(
CREATE TABLE client_certificates (
  fingerprint bytea PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants (tenant_id)
);
)sql",
    // 3: members' alarms about accepted commits, one per (group, epoch, reporter).
    R"sql(
CREATE TABLE alarms (
  alarm_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id text NOT NULL,
  group_id text NOT NULL,
  epoch bigint NOT NULL,
  reporter_member_id text NOT NULL,
  reason integer NOT NULL,
  detail text NOT NULL,
  reported_unix_millis bigint NOT NULL,
  UNIQUE (tenant_id, group_id, epoch, reporter_member_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, group_id)
);
CREATE INDEX alarms_by_tenant ON alarms (tenant_id, alarm_id);
)sql",
};

constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// The advisory lock key that serializes migrations ("artd" in ASCII); advisory locks are per database.
constexpr int64_t kMigrationLock = 0x61727464;

// ---- Dialect ----

// The versioned tables, so nodes and leaves share one loading path. Each query takes the newest
// version not after the epoch of every index ($3), or of the listed indices ($3, $4 = the list).
#define ARTD_VERSIONED_QUERIES(table, index, columns)                                              \
  static constexpr const char* kAllAsOf =                                                         \
      "SELECT DISTINCT ON (" index ") " columns " FROM " table                                    \
      " WHERE tenant_id = $1 AND group_id = $2 AND epoch_from <= $3 ORDER BY " index ", epoch_from DESC"; \
  static constexpr const char* kListedAsOf =                                                      \
      "SELECT DISTINCT ON (" index ") " columns " FROM " table                                    \
      " WHERE tenant_id = $1 AND group_id = $2 AND epoch_from <= $3 AND " index " = ANY ($4) "     \
      "ORDER BY " index ", epoch_from DESC"

struct NodeQueries : sql::NodeColumns {
  ARTD_VERSIONED_QUERIES("nodes", "node", "node, public_key, hash");
};

struct LeafQueries : sql::LeafColumns {
  ARTD_VERSIONED_QUERIES("leaves", "leaf", "leaf, member_id, credential, credential_hash, signing_key, keyed_by");
};

#undef ARTD_VERSIONED_QUERIES

// What PostgreSQL spells its own way (see storage/sql/sql_store.h). Writes are READ COMMITTED
// transactions that may run on several replicas at once, so each read-then-write step takes a lock.
struct PostgresDialect {
  using Connection = postgres::Connection;
  static constexpr bool kConcurrentWriters = true;
  static constexpr const char* kCredentialKeysInOrder =
      "SELECT public_key FROM tenant_credential_keys WHERE tenant_id = $1 ORDER BY position";
  // A transaction-scoped lock for the member (a hash collision with another member only makes the
  // two wait for each other).
  static absl::Status LockMemberPrekeys(Connection& c, const std::string& tenant_id, const std::string& member_id) {
    return c.Run("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))", tenant_id, member_id).status();
  }
  using NodeTable = NodeQueries;
  using LeafTable = LeafQueries;
  // One round trip for the whole list; the rows come back by index, the caller wants its own order.
  template <typename Table>
  static absl::StatusOr<std::vector<typename Table::Record>> LoadListed(Connection& c, const std::string& tenant_id,
                                                                        const std::string& group_id, uint64_t epoch,
                                                                        absl::Span<const uint32_t> indices) {
    ART_ASSIGN_OR_RETURN(Result found,
                         c.Query(Table::kListedAsOf, tenant_id, group_id, epoch, IndexList{indices}));
    std::unordered_map<uint32_t, int> row_of;
    for (int row = 0; row < found.rows(); ++row) row_of[found.Uint32(row, 0)] = row;
    std::vector<typename Table::Record> records;
    records.reserve(indices.size());
    for (uint32_t index : indices) {
      auto row = row_of.find(index);
      if (row != row_of.end()) records.push_back(Table::Read(postgres::Row(found, row->second)));
    }
    return records;
  }
};

// Brings the schema to kSchemaVersion, one migration per transaction. Each transaction first takes
// the migration advisory lock and only then reads the recorded version (READ COMMITTED: a statement
// sees what committed before it began), so replicas starting at once apply each migration exactly
// once: a waiter sees the holder's row and moves on.
absl::Status Migrate(ConnectionPool& pool, int max_attempts) {
  for (;;) {
    ART_ASSIGN_OR_RETURN(
        bool up_to_date,
        postgres::Transact(pool, TransactionKind::kWrite, max_attempts, [](Connection& c) -> absl::StatusOr<bool> {
          ART_RETURN_IF_ERROR(c.Run("SELECT pg_advisory_xact_lock($1)", kMigrationLock).status());
          ART_RETURN_IF_ERROR(
              c.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"));
          ART_ASSIGN_OR_RETURN(Result version, c.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
          const int64_t current = version.Int(0, 0);
          if (current > kSchemaVersion) {
            return absl::FailedPreconditionError(absl::StrCat("database schema version ", current,
                                                              " is newer than this binary's (", kSchemaVersion, ")"));
          }
          if (current == kSchemaVersion) return true;
          ART_RETURN_IF_ERROR(c.Exec(kMigrations[current]));
          ART_RETURN_IF_ERROR(c.Run("INSERT INTO schema_migrations (version) VALUES ($1::integer)", current + 1).status());
          return current + 1 == kSchemaVersion;
        }));
    if (up_to_date) return absl::OkStatus();
  }
}


// ---- The store ----

class PostgresStore final : public sql::SqlStore<PostgresDialect> {
 public:
  PostgresStore(const std::string& url, const PostgresOptions& options)
      : pool_(url, postgres::ConnectOptions{options.connect_timeout_seconds, options.lock_timeout_ms},
              options.max_connections),
        max_attempts_(options.max_transaction_attempts < 1 ? 1 : options.max_transaction_attempts) {}

  absl::Status Init() { return Migrate(pool_, max_attempts_); }

 protected:
  absl::Status RunRead(absl::FunctionRef<absl::Status(Connection&)> body) override {
    return postgres::Transact(pool_, TransactionKind::kRead, max_attempts_, body);
  }
  absl::Status RunWrite(absl::FunctionRef<absl::Status(Connection&)> body) override {
    return postgres::Transact(pool_, TransactionKind::kWrite, max_attempts_, body);
  }

 private:
  ConnectionPool pool_;
  const int max_attempts_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url, PostgresOptions options) {
  auto store = std::make_unique<PostgresStore>(url, options);
  ART_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

int PostgresSchemaVersion() { return kSchemaVersion; }

}  // namespace artd
