#include "storage/postgres/postgres_store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "storage/group_view_read.h"
#include "storage/postgres/pg_connection.h"
#include "storage/shared_sql.h"

namespace artd {
namespace {

using postgres::AsBytea;
using postgres::Connection;
using postgres::ConnectionPool;
using postgres::IndexList;
using postgres::Result;
using postgres::TransactionKind;

constexpr uint32_t kNoLeafValue = 0xffffffffu;

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
};

constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// The advisory lock key that serializes migrations ("artd" in ASCII); advisory locks are per database.
constexpr int64_t kMigrationLock = 0x61727464;

// ---- Query helpers ----

std::string Quote(const std::string& id) { return absl::StrCat("\"", id, "\""); }

absl::Status GroupNotFound(const std::string& group_id) {
  return absl::NotFoundError(absl::StrCat("group ", Quote(group_id), " not found"));
}

// Every row of |result|, each read by |read(result, row)|.
template <typename Read>
auto Rows(const Result& result, Read read) -> std::vector<decltype(read(result, 0))> {
  std::vector<decltype(read(result, 0))> rows;
  rows.reserve(result.rows());
  for (int row = 0; row < result.rows(); ++row) rows.push_back(read(result, row));
  return rows;
}

// Runs an INSERT whose unique violation means |what| exists already; says so in the error.
template <typename... Args>
absl::Status Claim(Connection& c, const std::string& exists_message, const char* sql, const Args&... args) {
  absl::StatusOr<int> inserted = c.Run(sql, args...);
  if (absl::IsAlreadyExists(inserted.status())) return absl::AlreadyExistsError(exists_message);
  return inserted.status();
}

// Records a request nonce; the primary key claims it, so of two replicas recording it at once one
// gets ALREADY_EXISTS.
absl::Status ClaimNonce(Connection& c, const std::string& tenant_id, const RequestNonce& nonce) {
  return Claim(c, absl::StrCat("request nonce of member ", Quote(nonce.member_id), " was already used"),
               "INSERT INTO request_nonces (tenant_id, member_id, nonce, expires_unix_millis) "
               "VALUES ($1, $2, $3, $4)",
               tenant_id, nonce.member_id, AsBytea(nonce.nonce), nonce.expires_unix_millis);
}

absl::Status RequireTenant(Connection& c, const std::string& tenant_id) {
  ART_ASSIGN_OR_RETURN(Result found, c.Query("SELECT 1 FROM tenants WHERE tenant_id = $1", tenant_id));
  if (found.rows() == 0) return absl::NotFoundError(absl::StrCat("tenant ", Quote(tenant_id), " not found"));
  return absl::OkStatus();
}

// The group's current epoch (NOT_FOUND naming the group).
absl::StatusOr<uint64_t> CurrentEpoch(Connection& c, const std::string& tenant_id, const std::string& group_id) {
  ART_ASSIGN_OR_RETURN(Result group, c.Query("SELECT current_epoch FROM groups WHERE tenant_id = $1 AND group_id = $2",
                                             tenant_id, group_id));
  if (group.rows() == 0) return GroupNotFound(group_id);
  return group.Uint(0, 0);
}

// The header at |epoch|: NOT_FOUND naming the group when it does not exist, else naming the epoch.
absl::StatusOr<GroupHeaderRecord> HeaderAt(Connection& c, const std::string& tenant_id,
                                           const std::string& group_id, uint64_t epoch) {
  ART_ASSIGN_OR_RETURN(
      Result found,
      c.Query("SELECT epoch, leaf_count, tree_hash, interim_transcript_hash, leftmost_blank_leaf "
              "FROM group_epochs WHERE tenant_id = $1 AND group_id = $2 AND epoch = $3",
              tenant_id, group_id, epoch));
  if (found.rows() == 0) {
    ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
    return absl::NotFoundError(absl::StrCat("epoch ", epoch, " of group ", Quote(group_id), " is not retained"));
  }
  GroupHeaderRecord header;
  header.epoch = found.Uint(0, 0);
  header.leaf_count = found.Uint32(0, 1);
  header.tree_hash = found.BytesAt(0, 2);
  header.interim_transcript_hash = found.BytesAt(0, 3);
  header.leftmost_blank_leaf = found.Uint32(0, 4);
  return header;
}

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

struct NodeTable {
  using Record = NodeRecord;
  ARTD_VERSIONED_QUERIES("nodes", "node", "node, public_key, hash");
  static NodeRecord Read(const Result& r, int row) {
    return NodeRecord{r.Uint32(row, 0), r.BytesAt(row, 1), r.BytesAt(row, 2)};
  }
};

struct LeafTable {
  using Record = LeafRecord;
  ARTD_VERSIONED_QUERIES("leaves", "leaf", "leaf, member_id, credential, credential_hash, signing_key, keyed_by");
  static LeafRecord Read(const Result& r, int row) {
    return LeafRecord{r.Uint32(row, 0), r.String(row, 1),  r.String(row, 2),
                      r.BytesAt(row, 3), r.BytesAt(row, 4), r.Uint32(row, 5)};
  }
};

#undef ARTD_VERSIONED_QUERIES

template <typename Table>
absl::StatusOr<std::vector<typename Table::Record>> LoadListed(Connection& c, const std::string& tenant_id,
                                                               const std::string& group_id, uint64_t epoch,
                                                               absl::Span<const uint32_t> indices) {
  // One round trip for the whole list; the rows come back by index, the caller wants its own order.
  ART_ASSIGN_OR_RETURN(Result found, c.Query(Table::kListedAsOf, tenant_id, group_id, epoch, IndexList{indices}));
  std::unordered_map<uint32_t, int> row_of;
  for (int row = 0; row < found.rows(); ++row) row_of[found.Uint32(row, 0)] = row;
  std::vector<typename Table::Record> records;
  records.reserve(indices.size());
  for (uint32_t index : indices) {
    auto row = row_of.find(index);
    if (row != row_of.end()) records.push_back(Table::Read(found, row->second));
  }
  return records;
}

template <typename Table>
absl::StatusOr<std::vector<typename Table::Record>> LoadAll(Connection& c, const std::string& tenant_id,
                                                            const std::string& group_id, uint64_t epoch) {
  ART_ASSIGN_OR_RETURN(Result found, c.Query(Table::kAllAsOf, tenant_id, group_id, epoch));
  return Rows(found, &Table::Read);
}

// The smallest leaf >= |from_leaf| whose current version is held by |member_id| (blank leaves have an
// empty member id), or kNoLeafValue. Candidates come from the member index; one counts only if no newer
// version of its leaf exists (none is ever newer than the current epoch).
absl::StatusOr<uint32_t> CurrentLeafOf(Connection& c, const std::string& tenant_id, const std::string& group_id,
                                       const std::string& member_id, uint32_t from_leaf) {
  ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
  ART_ASSIGN_OR_RETURN(
      Result found,
      c.Query("SELECT l.leaf FROM leaves AS l "
              "WHERE l.tenant_id = $1 AND l.group_id = $2 AND l.member_id = $3 AND l.leaf >= $4 "
              "AND NOT EXISTS (SELECT 1 FROM leaves AS newer WHERE newer.tenant_id = $1 AND newer.group_id = $2 "
              "                AND newer.leaf = l.leaf AND newer.epoch_from > l.epoch_from) "
              "ORDER BY l.leaf LIMIT 1",
              tenant_id, group_id, member_id, from_leaf));
  return found.rows() == 0 ? kNoLeafValue : found.Uint32(0, 0);
}

// Writes everything one epoch adds: its header, the new node and leaf versions (current from that
// epoch on) and the commit that created it (the Setup for epoch 0).
absl::Status InsertEpoch(Connection& c, const std::string& tenant_id, const std::string& group_id,
                         const GroupHeaderRecord& header, const std::vector<NodeRecord>& nodes,
                         const std::vector<LeafRecord>& leaves, const std::string& commit) {
  const uint64_t epoch = header.epoch;
  ART_RETURN_IF_ERROR(c.Run("INSERT INTO group_epochs (tenant_id, group_id, epoch, leaf_count, tree_hash, "
                            "interim_transcript_hash, leftmost_blank_leaf) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            tenant_id, group_id, epoch, header.leaf_count, AsBytea(header.tree_hash),
                            AsBytea(header.interim_transcript_hash), header.leftmost_blank_leaf)
                          .status());
  for (const NodeRecord& node : nodes) {
    ART_RETURN_IF_ERROR(Claim(c, absl::StrCat("node ", node.node, " is listed twice"),
                              "INSERT INTO nodes (tenant_id, group_id, node, epoch_from, public_key, hash) "
                              "VALUES ($1, $2, $3, $4, $5, $6)",
                              tenant_id, group_id, node.node, epoch, AsBytea(node.public_key), AsBytea(node.hash)));
  }
  for (const LeafRecord& leaf : leaves) {
    ART_RETURN_IF_ERROR(Claim(c, absl::StrCat("leaf ", leaf.leaf, " is listed twice"),
                              "INSERT INTO leaves (tenant_id, group_id, leaf, epoch_from, member_id, credential, "
                              "credential_hash, signing_key, keyed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                              tenant_id, group_id, leaf.leaf, epoch, leaf.member_id, AsBytea(leaf.credential),
                              AsBytea(leaf.credential_hash), AsBytea(leaf.signing_key), leaf.keyed_by));
  }
  return c.Run("INSERT INTO commits (tenant_id, group_id, epoch, body) VALUES ($1, $2, $3, $4)", tenant_id,
               group_id, epoch, AsBytea(commit))
      .status();
}

absl::StatusOr<PrekeyCounts> ReadPrekeyCounts(Connection& c, const std::string& tenant_id,
                                              const std::string& member_id) {
  // One row: the count, and the signed prekey's id and expiry (NULL without one).
  ART_ASSIGN_OR_RETURN(
      Result found,
      c.Query("SELECT (SELECT COUNT(*) FROM one_time_prekeys WHERE tenant_id = $1 AND member_id = $2), "
              "s.prekey_id, s.expiry_unix_seconds FROM (SELECT 1) AS one LEFT JOIN signed_prekeys AS s "
              "ON s.tenant_id = $1 AND s.member_id = $2",
              tenant_id, member_id));
  PrekeyCounts counts;
  counts.one_time_remaining = found.Uint32(0, 0);
  if (!found.IsNull(0, 1)) {
    counts.signed_prekey_id = found.Uint32(0, 1);
    counts.signed_prekey_expiry_unix_seconds = found.Uint(0, 2);
  }
  return counts;
}

absl::StatusOr<std::string> RequireIdentity(Connection& c, const std::string& tenant_id,
                                            const std::string& member_id) {
  ART_ASSIGN_OR_RETURN(Result found, c.Query("SELECT credential FROM identities WHERE tenant_id = $1 AND member_id = $2",
                                             tenant_id, member_id));
  if (found.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("identity of member ", Quote(member_id), " not found"));
  }
  return found.String(0, 0);
}

StoredCommit ReadCommit(const Result& r, int row) { return StoredCommit{r.Uint(row, 0), r.String(row, 1)}; }

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

class PostgresStore final : public Store {
 public:
  PostgresStore(const std::string& url, const PostgresOptions& options)
      : pool_(url, postgres::ConnectOptions{options.connect_timeout_seconds, options.lock_timeout_ms},
              options.max_connections),
        max_attempts_(options.max_transaction_attempts < 1 ? 1 : options.max_transaction_attempts) {}

  absl::Status Init() { return Migrate(pool_, max_attempts_); }

 private:
  template <typename Body>
  auto Read(Body&& body) -> decltype(body(std::declval<Connection&>())) {
    return postgres::Transact(pool_, TransactionKind::kRead, max_attempts_, std::forward<Body>(body));
  }
  template <typename Body>
  auto Write(Body&& body) -> decltype(body(std::declval<Connection&>())) {
    return postgres::Transact(pool_, TransactionKind::kWrite, max_attempts_, std::forward<Body>(body));
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
      return Claim(c, absl::StrCat("tenant ", Quote(tenant_id), " already exists"),
                   "INSERT INTO tenants (tenant_id) VALUES ($1)", tenant_id);
    });
  }

  absl::Status AddApiKey(const std::string& tenant_id, const std::string& key_id, const Bytes& key_hash) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Claim(c, absl::StrCat("API key ", Quote(key_id), " (or its hash) already exists"),
                   "INSERT INTO api_keys (key_id, tenant_id, key_hash) VALUES ($1, $2, $3)", key_id, tenant_id,
                   AsBytea(key_hash));
    });
  }

  absl::Status RevokeApiKey(const std::string& key_id) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_ASSIGN_OR_RETURN(int changed, c.Run("UPDATE api_keys SET revoked = true WHERE key_id = $1", key_id));
      if (changed == 0) return absl::NotFoundError(absl::StrCat("API key ", Quote(key_id), " not found"));
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::string> TenantForApiKey(const Bytes& key_hash) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::string> {
      ART_ASSIGN_OR_RETURN(Result found, c.Query("SELECT tenant_id FROM api_keys WHERE key_hash = $1 AND NOT revoked",
                                                 AsBytea(key_hash)));
      // The key's hash is not echoed: it identifies a credential.
      if (found.rows() == 0) return absl::NotFoundError("API key not found or revoked");
      return found.String(0, 0);
    });
  }

  absl::Status AddTenantCredentialKey(const std::string& tenant_id, const Bytes& public_key) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Claim(c, absl::StrCat("tenant ", Quote(tenant_id), " already has this credential key"),
                   "INSERT INTO tenant_credential_keys (tenant_id, public_key) VALUES ($1, $2)", tenant_id,
                   AsBytea(public_key));
    });
  }

  absl::StatusOr<std::vector<Bytes>> TenantCredentialKeys(const std::string& tenant_id) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<Bytes>> {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      ART_ASSIGN_OR_RETURN(
          Result found,
          c.Query("SELECT public_key FROM tenant_credential_keys WHERE tenant_id = $1 ORDER BY position", tenant_id));
      return Rows(found, [](const Result& r, int row) { return r.BytesAt(row, 0); });
    });
  }

  absl::Status BindClientCertificate(const std::string& tenant_id, const Bytes& fingerprint) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Claim(c, "this client certificate is already bound to a tenant",
                   "INSERT INTO client_certificates (fingerprint, tenant_id) VALUES ($1, $2)", AsBytea(fingerprint),
                   tenant_id);
    });
  }

  absl::Status UnbindClientCertificate(const Bytes& fingerprint) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_ASSIGN_OR_RETURN(int changed,
                           c.Run("DELETE FROM client_certificates WHERE fingerprint = $1", AsBytea(fingerprint)));
      if (changed == 0) return absl::NotFoundError("client certificate not bound");
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::string> TenantForClientCertificate(const Bytes& fingerprint) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::string> {
      ART_ASSIGN_OR_RETURN(Result found, c.Query("SELECT tenant_id FROM client_certificates WHERE fingerprint = $1",
                                                 AsBytea(fingerprint)));
      if (found.rows() == 0) return absl::NotFoundError("client certificate not bound");
      return found.String(0, 0);
    });
  }

  absl::StatusOr<std::vector<TenantUsage>> CountTenantUsage() override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<TenantUsage>> {
      ART_ASSIGN_OR_RETURN(Result found, c.Query(kTenantUsageSql));
      return Rows(found, [](const Result& r, int row) {
        return TenantUsage{r.String(row, 0), r.Uint(row, 1), r.Uint(row, 2)};
      });
    });
  }

  absl::Status RecordRequestNonce(const std::string& tenant_id, const std::string& member_id, const Bytes& nonce,
                                  uint64_t expires_unix_millis) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return ClaimNonce(c, tenant_id, RequestNonce{member_id, nonce, expires_unix_millis});
    });
  }

  absl::Status PutIdentity(const std::string& tenant_id, const std::string& member_id,
                           const std::string& credential) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      // DO NOTHING waits for a concurrent insert of the same member, so publishing the same credential
      // twice at once is still a no-op rather than a unique violation.
      ART_ASSIGN_OR_RETURN(int inserted, c.Run("INSERT INTO identities (tenant_id, member_id, credential) "
                                               "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                               tenant_id, member_id, AsBytea(credential)));
      if (inserted == 1) return absl::OkStatus();
      ART_ASSIGN_OR_RETURN(std::string existing, RequireIdentity(c, tenant_id, member_id));
      if (existing == credential) return absl::OkStatus();
      return absl::AlreadyExistsError(absl::StrCat("member ", Quote(member_id), " already has a different identity"));
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
      // Two uploads for one member on two replicas would each count only their own rows and could
      // together pass the limit: serialize them on a lock for the member (a hash collision with
      // another member only makes them wait for each other).
      ART_RETURN_IF_ERROR(c.Run("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))",
                                tenant_id, member_id)
                              .status());
      if (!signed_prekey.empty()) {
        ART_RETURN_IF_ERROR(
            c.Run("INSERT INTO signed_prekeys (tenant_id, member_id, prekey_id, expiry_unix_seconds, prekey) "
                  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, member_id) DO UPDATE SET "
                  "prekey_id = excluded.prekey_id, expiry_unix_seconds = excluded.expiry_unix_seconds, "
                  "prekey = excluded.prekey",
                  tenant_id, member_id, signed_prekey_id, signed_prekey_expiry, AsBytea(signed_prekey))
                .status());
      }
      for (const auto& [id, prekey] : one_time_prekeys) {
        ART_RETURN_IF_ERROR(
            Claim(c, absl::StrCat("one-time prekey ", id, " of member ", Quote(member_id), " already exists"),
                  "INSERT INTO one_time_prekeys (tenant_id, member_id, prekey_id, prekey) VALUES ($1, $2, $3, $4)",
                  tenant_id, member_id, id, AsBytea(prekey)));
      }
      ART_ASSIGN_OR_RETURN(PrekeyCounts counts, ReadPrekeyCounts(c, tenant_id, member_id));
      if (counts.one_time_remaining > max_one_time) {
        return absl::ResourceExhaustedError(absl::StrCat("member ", Quote(member_id), " would hold ",
                                                         counts.one_time_remaining, " one-time prekeys; the limit is ",
                                                         max_one_time));
      }
      return counts;
    });
  }

  absl::StatusOr<PrekeyCounts> CountPrekeys(const std::string& tenant_id, const std::string& member_id) override {
    return Read([&](Connection& c) { return ReadPrekeyCounts(c, tenant_id, member_id); });
  }

  absl::StatusOr<TakenBundle> TakePrekeyBundle(const std::string& tenant_id, const std::string& member_id) override {
    return Write([&](Connection& c) -> absl::StatusOr<TakenBundle> {
      TakenBundle bundle;
      ART_ASSIGN_OR_RETURN(bundle.credential, RequireIdentity(c, tenant_id, member_id));
      ART_ASSIGN_OR_RETURN(Result signed_prekey,
                           c.Query("SELECT prekey FROM signed_prekeys WHERE tenant_id = $1 AND member_id = $2",
                                   tenant_id, member_id));
      if (signed_prekey.rows() == 0) {
        return absl::NotFoundError(absl::StrCat("member ", Quote(member_id), " has no signed prekey"));
      }
      bundle.signed_prekey = signed_prekey.String(0, 0);
      // The lowest one-time prekey no concurrent taker holds, locked and deleted in one statement: a
      // row another transaction locked is skipped (it is being taken), and one deleted since this
      // statement's snapshot fails its lock and is skipped too, so no prekey is handed out twice and
      // a taker is not told "none left" while unlocked ones remain.
      ART_ASSIGN_OR_RETURN(
          Result one_time,
          c.Query("DELETE FROM one_time_prekeys WHERE tenant_id = $1 AND member_id = $2 AND prekey_id = ("
                  "  SELECT prekey_id FROM one_time_prekeys WHERE tenant_id = $1 AND member_id = $2 "
                  "  ORDER BY prekey_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                  "RETURNING prekey",
                  tenant_id, member_id));
      if (one_time.rows() > 0) bundle.one_time_prekey = one_time.String(0, 0);
      return bundle;
    });
  }

  absl::Status CreateGroup(const std::string& tenant_id, const std::string& group_id, const GroupHeaderRecord& header,
                           const std::vector<LeafRecord>& leaves, const std::vector<NodeRecord>& nodes,
                           const std::string& setup) override {
    if (header.epoch != 0) {
      return absl::InvalidArgumentError(absl::StrCat("a new group starts at epoch 0, not ", header.epoch));
    }
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      ART_RETURN_IF_ERROR(Claim(c, absl::StrCat("group ", Quote(group_id), " already exists"),
                                "INSERT INTO groups (tenant_id, group_id, current_epoch) VALUES ($1, $2, 0)",
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
      return ReadGroupViewIn<&CurrentEpoch, &HeaderAt, &LoadListed<NodeTable>, &LoadListed<LeafTable>>(
          c, tenant_id, group_id, select);
    });
  }

  absl::Status LoadTree(const std::string& tenant_id, const std::string& group_id, uint64_t epoch,
                        std::vector<NodeRecord>* nodes, std::vector<LeafRecord>* leaves) override {
    // Both in one REPEATABLE READ transaction, so they read the same snapshot.
    return ReadAtEpoch(tenant_id, group_id, epoch, [&](Connection& c) -> absl::Status {
      ART_ASSIGN_OR_RETURN(*nodes, LoadAll<NodeTable>(c, tenant_id, group_id, epoch));
      ART_ASSIGN_OR_RETURN(*leaves, LoadAll<LeafTable>(c, tenant_id, group_id, epoch));
      return absl::OkStatus();
    });
  }

  absl::StatusOr<uint32_t> FindMemberLeaf(const std::string& tenant_id, const std::string& group_id,
                                          const std::string& member_id) override {
    return Read([&](Connection& c) -> absl::StatusOr<uint32_t> {
      if (member_id.empty()) {  // Blank leaves have an empty member id; nobody holds them.
        ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
        return kNoLeafValue;
      }
      return CurrentLeafOf(c, tenant_id, group_id, member_id, 0);
    });
  }

  absl::Status ApplyCommit(const std::string& tenant_id, const std::string& group_id,
                           const CommitWrite& write) override {
    // Epochs are stored as signed 64-bit integers; the protocol stops far below this anyway.
    if (write.expected_epoch >= postgres::kMaxStoredUint) {
      return absl::OutOfRangeError(absl::StrCat("epoch ", write.expected_epoch, " is too large"));
    }
    if (write.new_header.epoch != write.expected_epoch + 1) {
      return absl::InvalidArgumentError(absl::StrCat("a commit from epoch ", write.expected_epoch,
                                                     " must create epoch ", write.expected_epoch + 1, ", not ",
                                                     write.new_header.epoch));
    }
    if (write.welcome.empty() != write.welcome_member_id.empty()) {
      return absl::InvalidArgumentError("a Welcome needs both its body and its member id");
    }
    return Write([&](Connection& c) -> absl::Status {
      // A replayed nonce fails first and the commit changes nothing (as AppendMessage).
      if (write.nonce.has_value()) ART_RETURN_IF_ERROR(ClaimNonce(c, tenant_id, *write.nonce));
      // The compare-and-swap: the group row stays locked until COMMIT, so a commit racing on another
      // replica waits here and then reads the epoch this one wrote.
      ART_ASSIGN_OR_RETURN(Result group,
                           c.Query("SELECT current_epoch FROM groups WHERE tenant_id = $1 AND group_id = $2 FOR UPDATE",
                                   tenant_id, group_id));
      if (group.rows() == 0) return GroupNotFound(group_id);
      const uint64_t current = group.Uint(0, 0);
      if (current != write.expected_epoch) {
        return absl::AbortedError(absl::StrCat("group ", Quote(group_id), " is at current epoch ", current, ", not ",
                                               write.expected_epoch));
      }
      const uint64_t epoch = write.new_header.epoch;
      ART_RETURN_IF_ERROR(
          InsertEpoch(c, tenant_id, group_id, write.new_header, write.nodes, write.leaves, write.commit));
      if (!write.welcome.empty()) {
        ART_RETURN_IF_ERROR(c.Run("INSERT INTO welcomes (tenant_id, member_id, group_id, epoch, body) "
                                  "VALUES ($1, $2, $3, $4, $5)",
                                  tenant_id, write.welcome_member_id, group_id, epoch, AsBytea(write.welcome))
                                .status());
      }
      return c.Run("UPDATE groups SET current_epoch = $3 WHERE tenant_id = $1 AND group_id = $2", tenant_id,
                   group_id, epoch)
          .status();
    });
  }

  absl::StatusOr<uint32_t> NextBlankLeaf(const std::string& tenant_id, const std::string& group_id,
                                         uint32_t from_leaf) override {
    return Read([&](Connection& c) { return CurrentLeafOf(c, tenant_id, group_id, std::string(), from_leaf); });
  }

  absl::StatusOr<StoredCommit> GetCommit(const std::string& tenant_id, const std::string& group_id,
                                         uint64_t epoch) override {
    return Read([&](Connection& c) -> absl::StatusOr<StoredCommit> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      ART_ASSIGN_OR_RETURN(
          Result found,
          c.Query("SELECT epoch, body FROM commits WHERE tenant_id = $1 AND group_id = $2 AND epoch = $3", tenant_id,
                  group_id, epoch));
      if (found.rows() == 0) {
        return absl::NotFoundError(absl::StrCat("group ", Quote(group_id), " has no commit for epoch ", epoch));
      }
      return ReadCommit(found, 0);
    });
  }

  absl::StatusOr<std::vector<StoredCommit>> ListCommits(const std::string& tenant_id, const std::string& group_id,
                                                        uint64_t after_epoch, uint32_t limit) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<StoredCommit>> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      ART_ASSIGN_OR_RETURN(Result found, c.Query("SELECT epoch, body FROM commits WHERE tenant_id = $1 AND "
                                                 "group_id = $2 AND epoch > $3 ORDER BY epoch LIMIT $4",
                                                 tenant_id, group_id, after_epoch, limit));
      return Rows(found, &ReadCommit);
    });
  }

  absl::StatusOr<uint64_t> AppendMessage(const std::string& tenant_id, const std::string& group_id,
                                         const std::string& message, uint64_t now_unix_millis,
                                         uint64_t expires_unix_millis, const RequestNonce* nonce) override {
    return Write([&](Connection& c) -> absl::StatusOr<uint64_t> {
      // A replayed nonce fails here and the transaction appends nothing. (The group's tenant exists
      // when the group does, which the counter's update below checks.)
      if (nonce != nullptr) ART_RETURN_IF_ERROR(ClaimNonce(c, tenant_id, *nonce));
      // The group's counter, bumped under its row lock in this transaction, so sequences are dense per
      // group and never reused, whichever replica appends.
      ART_ASSIGN_OR_RETURN(Result bumped,
                           c.Query("UPDATE groups SET last_message_sequence = last_message_sequence + 1 "
                                   "WHERE tenant_id = $1 AND group_id = $2 RETURNING last_message_sequence",
                                   tenant_id, group_id));
      if (bumped.rows() == 0) return GroupNotFound(group_id);
      const uint64_t sequence = bumped.Uint(0, 0);
      ART_RETURN_IF_ERROR(c.Run("INSERT INTO messages (tenant_id, group_id, sequence, body, posted_unix_millis, "
                                "expires_unix_millis) VALUES ($1, $2, $3, $4, $5, $6)",
                                tenant_id, group_id, sequence, AsBytea(message), now_unix_millis, expires_unix_millis)
                              .status());
      return sequence;
    });
  }

  absl::StatusOr<std::vector<StoredMessageRecord>> FetchMessages(const std::string& tenant_id,
                                                                 const std::string& group_id, uint64_t after_sequence,
                                                                 uint32_t limit, uint64_t now_unix_millis) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<StoredMessageRecord>> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      // A message is expired from its expiry instant on (the same rule as PurgeExpired).
      ART_ASSIGN_OR_RETURN(Result found,
                           c.Query("SELECT sequence, body, posted_unix_millis FROM messages WHERE tenant_id = $1 "
                                   "AND group_id = $2 AND sequence > $3 AND expires_unix_millis > $4 "
                                   "ORDER BY sequence LIMIT $5",
                                   tenant_id, group_id, after_sequence, now_unix_millis, limit));
      return Rows(found, [](const Result& r, int row) {
        return StoredMessageRecord{r.Uint(row, 0), r.String(row, 1), r.Uint(row, 2)};
      });
    });
  }

  absl::StatusOr<std::vector<StoredWelcome>> FetchWelcomes(const std::string& tenant_id,
                                                           const std::string& member_id) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<StoredWelcome>> {
      ART_ASSIGN_OR_RETURN(Result found, c.Query("SELECT welcome_id, group_id, epoch, body FROM welcomes "
                                                 "WHERE tenant_id = $1 AND member_id = $2 ORDER BY welcome_id",
                                                 tenant_id, member_id));
      return Rows(found, [](const Result& r, int row) {
        return StoredWelcome{r.Uint(row, 0), r.String(row, 1), r.Uint(row, 2), r.String(row, 3)};
      });
    });
  }

  absl::Status DeleteWelcome(const std::string& tenant_id, const std::string& member_id,
                             uint64_t welcome_id) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_ASSIGN_OR_RETURN(int deleted,
                           c.Run("DELETE FROM welcomes WHERE tenant_id = $1 AND member_id = $2 AND welcome_id = $3",
                                 tenant_id, member_id, welcome_id));
      if (deleted == 0) {
        return absl::NotFoundError(absl::StrCat("welcome ", welcome_id, " for member ", Quote(member_id), " not found"));
      }
      return absl::OkStatus();
    });
  }

  absl::StatusOr<uint64_t> PutStateBlob(const std::string& tenant_id, const std::string& member_id,
                                        const std::string& name, uint64_t expected_version,
                                        const std::string& ciphertext) override {
    return Write([&](Connection& c) -> absl::StatusOr<uint64_t> {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      const std::string blob = absl::StrCat("state blob ", Quote(name), " of member ", Quote(member_id));
      if (expected_version == 0) {
        // The primary key decides a race between two creators.
        ART_RETURN_IF_ERROR(Claim(c, absl::StrCat(blob, " already exists"),
                                  "INSERT INTO state_blobs (tenant_id, member_id, name, version, ciphertext) "
                                  "VALUES ($1, $2, $3, 1, $4)",
                                  tenant_id, member_id, name, AsBytea(ciphertext)));
        return uint64_t{1};
      }
      // The compare-and-swap in one statement: the row lock makes a racing writer re-check the
      // version after this one commits, and then match nothing.
      ART_ASSIGN_OR_RETURN(int swapped, c.Run("UPDATE state_blobs SET version = version + 1, ciphertext = $5 "
                                              "WHERE tenant_id = $1 AND member_id = $2 AND name = $3 AND version = $4",
                                              tenant_id, member_id, name, expected_version, AsBytea(ciphertext)));
      if (swapped == 1) return expected_version + 1;
      ART_ASSIGN_OR_RETURN(Result stored,
                           c.Query("SELECT version FROM state_blobs WHERE tenant_id = $1 AND member_id = $2 AND name = $3",
                                   tenant_id, member_id, name));
      if (stored.rows() == 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(blob, " does not exist (expected version ", expected_version, ")"));
      }
      return absl::FailedPreconditionError(
          absl::StrCat(blob, " is at version ", stored.Uint(0, 0), ", not ", expected_version));
    });
  }

  absl::StatusOr<StateBlob> GetStateBlob(const std::string& tenant_id, const std::string& member_id,
                                         const std::string& name) override {
    return Read([&](Connection& c) -> absl::StatusOr<StateBlob> {
      ART_ASSIGN_OR_RETURN(Result found, c.Query("SELECT version, ciphertext FROM state_blobs "
                                                 "WHERE tenant_id = $1 AND member_id = $2 AND name = $3",
                                                 tenant_id, member_id, name));
      if (found.rows() == 0) {
        return absl::NotFoundError(absl::StrCat("state blob ", Quote(name), " of member ", Quote(member_id), " not found"));
      }
      return StateBlob{found.Uint(0, 0), found.String(0, 1)};
    });
  }

  absl::Status PurgeExpired(uint64_t now_unix_millis) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_RETURN_IF_ERROR(c.Run("DELETE FROM messages WHERE expires_unix_millis <= $1", now_unix_millis).status());
      return c.Run("DELETE FROM request_nonces WHERE expires_unix_millis <= $1", now_unix_millis).status();
    });
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
