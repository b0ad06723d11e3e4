// The Store operations, written once for both SQL backends. A backend derives from SqlStore<Dialect>
// and supplies its transactions (RunRead, RunWrite) and, in |Dialect|, what its database spells
// differently:
//
//   struct Dialect {
//     using Connection = ...;  // With ForEachRow and Run as storage/sql/query.h describes.
//     // Whether write transactions on several connections run at once (PostgreSQL at READ
//     // COMMITTED: a read that decides a write must then lock its rows) or one at a time (SQLite).
//     static constexpr bool kConcurrentWriters;
//     // (tenant) -> public_key of each tenant credential key, in the order they were added.
//     static constexpr const char* kCredentialKeysInOrder;
//     // With concurrent writers: serializes prekey uploads for one member until the transaction ends.
//     static absl::Status LockMemberPrekeys(Connection&, tenant_id, member_id);
//     // The versioned tables: NodeColumns and LeafColumns, each extended with
//     //   kAllAsOf: (tenant, group, epoch) -> the newest version not after |epoch| of every index,
//     //             in index order;
//     using NodeTable = ...;
//     using LeafTable = ...;
//     // The newest version not after |epoch| of each listed index, in the list's order (absent
//     // ones left out).
//     template <typename Table>
//     static StatusOr<vector<Table::Record>> LoadListed(Connection&, tenant, group, epoch, Span indices);
//   };
//
// Queries name their parameters ?1..?n (PostgreSQL's connection rewrites them as $1..$n). Every
// operation is one transaction; where two replicas could race, the statement itself decides (a
// primary key claims, a compare-and-swap UPDATE matches or not, a row lock orders commits).
#ifndef STORAGE_SQL_SQL_STORE_H_
#define STORAGE_SQL_SQL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "art/base/status_macros.h"
#include "storage/sql/query.h"
#include "storage/store.h"

namespace artd::sql {

// The versioned tables (nodes, leaves): the columns their queries select, in this order, and how a
// row of them reads. A backend's table types add the queries (see Dialect above).
struct NodeColumns {
  using Record = NodeRecord;  // node, public_key, hash
  template <typename Row>
  static NodeRecord Read(const Row& r) {
    return NodeRecord{r.Uint32(0), r.BlobBytes(1), r.BlobBytes(2)};
  }
};
struct LeafColumns {
  using Record = LeafRecord;  // leaf, member_id, credential, credential_hash, signing_key, keyed_by
  template <typename Row>
  static LeafRecord Read(const Row& r) {
    return LeafRecord{r.Uint32(0), r.Text(1), r.BlobString(2), r.BlobBytes(3), r.BlobBytes(4), r.Uint32(5)};
  }
};

template <typename Dialect>
class SqlStore : public Store {
 public:
  using Connection = typename Dialect::Connection;

  absl::Status CreateTenant(const std::string& tenant_id) override {
    return Write([&](Connection& c) {
      return Claim(c, absl::StrCat("tenant ", Quote(tenant_id), " already exists"),
                   "INSERT INTO tenants (tenant_id) VALUES (?1)", tenant_id);
    });
  }

  absl::Status AddApiKey(const std::string& tenant_id, const std::string& key_id, const Bytes& key_hash) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Claim(c, absl::StrCat("API key ", Quote(key_id), " (or its hash) already exists"),
                   "INSERT INTO api_keys (key_id, tenant_id, key_hash) VALUES (?1, ?2, ?3)", key_id, tenant_id,
                   AsBlob(key_hash));
    });
  }

  absl::Status RevokeApiKey(const std::string& key_id) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_ASSIGN_OR_RETURN(int changed, c.Run("UPDATE api_keys SET revoked = TRUE WHERE key_id = ?1", key_id));
      if (changed == 0) return absl::NotFoundError(absl::StrCat("API key ", Quote(key_id), " not found"));
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::string> TenantForApiKey(const Bytes& key_hash) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::string> {
      ART_ASSIGN_OR_RETURN(
          std::optional<std::string> tenant,
          QueryOne<std::string>(c, "SELECT tenant_id FROM api_keys WHERE key_hash = ?1 AND NOT revoked", ReadText,
                                AsBlob(key_hash)));
      // The key's hash is not echoed: it identifies a credential.
      if (!tenant) return absl::NotFoundError("API key not found or revoked");
      return *std::move(tenant);
    });
  }

  absl::Status AddTenantCredentialKey(const std::string& tenant_id, const Bytes& public_key) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Claim(c, absl::StrCat("tenant ", Quote(tenant_id), " already has this credential key"),
                   "INSERT INTO tenant_credential_keys (tenant_id, public_key) VALUES (?1, ?2)", tenant_id,
                   AsBlob(public_key));
    });
  }

  absl::StatusOr<std::vector<Bytes>> TenantCredentialKeys(const std::string& tenant_id) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<Bytes>> {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return QueryAll<Bytes>(
          c, Dialect::kCredentialKeysInOrder, [](const auto& r) { return r.BlobBytes(0); }, tenant_id);
    });
  }

  absl::Status BindClientCertificate(const std::string& tenant_id, const Bytes& fingerprint) override {
    return Write([&](Connection& c) {
      ART_RETURN_IF_ERROR(RequireTenant(c, tenant_id));
      return Claim(c, "this client certificate is already bound to a tenant",
                   "INSERT INTO client_certificates (fingerprint, tenant_id) VALUES (?1, ?2)", AsBlob(fingerprint),
                   tenant_id);
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
      ART_ASSIGN_OR_RETURN(std::optional<std::string> tenant,
                           QueryOne<std::string>(c, "SELECT tenant_id FROM client_certificates WHERE fingerprint = ?1",
                                                 ReadText, AsBlob(fingerprint)));
      if (!tenant) return absl::NotFoundError("client certificate not bound");
      return *std::move(tenant);
    });
  }

  absl::StatusOr<std::vector<TenantUsage>> CountTenantUsage() override {
    // Per tenant: its groups, and the leaves whose newest version (the one current at the group's
    // epoch) holds a member. The newest-version subquery is a primary-key range read on leaves.
    return Read([&](Connection& c) {
      return QueryAll<TenantUsage>(
          c,
          "SELECT t.tenant_id, "
          "  (SELECT COUNT(*) FROM groups g WHERE g.tenant_id = t.tenant_id), "
          "  (SELECT COUNT(*) FROM leaves l "
          "     WHERE l.tenant_id = t.tenant_id AND l.member_id <> '' "
          "       AND l.epoch_from = (SELECT MAX(n.epoch_from) FROM leaves n "
          "                           WHERE n.tenant_id = l.tenant_id AND n.group_id = l.group_id "
          "                             AND n.leaf = l.leaf)) "
          "FROM tenants t ORDER BY t.tenant_id",
          [](const auto& r) { return TenantUsage{r.Text(0), r.Uint(1), r.Uint(2)}; });
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
                                               "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                                               tenant_id, member_id, AsBlob(credential)));
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
      // together pass the limit.
      if constexpr (Dialect::kConcurrentWriters) {
        ART_RETURN_IF_ERROR(Dialect::LockMemberPrekeys(c, tenant_id, member_id));
      }
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
            Claim(c, absl::StrCat("one-time prekey ", id, " of member ", Quote(member_id), " already exists"),
                  "INSERT INTO one_time_prekeys (tenant_id, member_id, prekey_id, prekey) VALUES (?1, ?2, ?3, ?4)",
                  tenant_id, member_id, id, AsBlob(prekey)));
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
    // A write transaction even when no one-time prekey is left: taking one must not interleave with
    // another taker's.
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
      // The lowest one-time prekey, deleted as it is read. With concurrent writers, the lowest one no
      // other taker holds: a row another transaction locked is skipped (it is being taken), and one
      // deleted since this statement's snapshot fails its lock and is skipped too, so no prekey is
      // handed out twice and a taker is not told "none left" while unlocked ones remain.
      ART_ASSIGN_OR_RETURN(
          std::optional<std::string> one_time,
          QueryOne<std::string>(c,
                                Dialect::kConcurrentWriters
                                    ? "DELETE FROM one_time_prekeys WHERE tenant_id = ?1 AND member_id = ?2 AND "
                                      "prekey_id = (SELECT prekey_id FROM one_time_prekeys WHERE tenant_id = ?1 "
                                      "AND member_id = ?2 ORDER BY prekey_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                                      "RETURNING prekey"
                                    : "DELETE FROM one_time_prekeys WHERE tenant_id = ?1 AND member_id = ?2 AND "
                                      "prekey_id = (SELECT prekey_id FROM one_time_prekeys WHERE tenant_id = ?1 "
                                      "AND member_id = ?2 ORDER BY prekey_id LIMIT 1) "
                                      "RETURNING prekey",
                                ReadBlobString, tenant_id, member_id));
      bundle.one_time_prekey = one_time.value_or(std::string());
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
    // The current header, the selection made from it, and the selected nodes and leaves as of the
    // chosen epoch (which must be retained), all in one read transaction.
    return Read([&](Connection& c) -> absl::StatusOr<GroupView> {
      GroupView view;
      ART_ASSIGN_OR_RETURN(uint64_t current, CurrentEpoch(c, tenant_id, group_id));
      ART_ASSIGN_OR_RETURN(view.current, HeaderAt(c, tenant_id, group_id, current));
      ART_ASSIGN_OR_RETURN(TreeSelection selection, select(view.current));
      if (selection.epoch != current) {
        ART_RETURN_IF_ERROR(HeaderAt(c, tenant_id, group_id, selection.epoch).status());
      }
      ART_ASSIGN_OR_RETURN(view.nodes, Dialect::template LoadListed<typename Dialect::NodeTable>(
                                           c, tenant_id, group_id, selection.epoch, selection.nodes));
      ART_ASSIGN_OR_RETURN(view.leaves, Dialect::template LoadListed<typename Dialect::LeafTable>(
                                            c, tenant_id, group_id, selection.epoch, selection.leaves));
      return view;
    });
  }

  absl::Status LoadTree(const std::string& tenant_id, const std::string& group_id, uint64_t epoch,
                        std::vector<NodeRecord>* nodes, std::vector<LeafRecord>* leaves) override {
    // Both in one read transaction, so they read the same snapshot.
    return Read([&](Connection& c) -> absl::Status {
      ART_RETURN_IF_ERROR(HeaderAt(c, tenant_id, group_id, epoch).status());
      ART_ASSIGN_OR_RETURN(*nodes, LoadAllAsOf<typename Dialect::NodeTable>(c, tenant_id, group_id, epoch));
      ART_ASSIGN_OR_RETURN(*leaves, LoadAllAsOf<typename Dialect::LeafTable>(c, tenant_id, group_id, epoch));
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
    if (write.expected_epoch >= kMaxStoredUint) {
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
      // The compare-and-swap: no other commit can move the epoch between this read and the UPDATE
      // below. With concurrent writers the group row stays locked until COMMIT, so a commit racing on
      // another replica waits here and then reads the epoch this one wrote.
      ART_ASSIGN_OR_RETURN(
          std::optional<int64_t> current,
          QueryInt(c,
                   Dialect::kConcurrentWriters
                       ? "SELECT current_epoch FROM groups WHERE tenant_id = ?1 AND group_id = ?2 FOR UPDATE"
                       : "SELECT current_epoch FROM groups WHERE tenant_id = ?1 AND group_id = ?2",
                   tenant_id, group_id));
      if (!current) return GroupNotFound(group_id);
      if (static_cast<uint64_t>(*current) != write.expected_epoch) {
        return absl::AbortedError(absl::StrCat("group ", Quote(group_id), " is at current epoch ", *current, ", not ",
                                               write.expected_epoch));
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
      return c.Run("UPDATE groups SET current_epoch = ?3 WHERE tenant_id = ?1 AND group_id = ?2", tenant_id,
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
          std::optional<StoredCommit> found,
          QueryOne<StoredCommit>(
              c, "SELECT epoch, body FROM commits WHERE tenant_id = ?1 AND group_id = ?2 AND epoch = ?3", ReadCommit,
              tenant_id, group_id, epoch));
      if (!found) {
        return absl::NotFoundError(absl::StrCat("group ", Quote(group_id), " has no commit for epoch ", epoch));
      }
      return *std::move(found);
    });
  }

  absl::StatusOr<std::vector<StoredCommit>> ListCommits(const std::string& tenant_id, const std::string& group_id,
                                                        uint64_t after_epoch, uint32_t limit) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<StoredCommit>> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      return QueryAll<StoredCommit>(c,
                                    "SELECT epoch, body FROM commits WHERE tenant_id = ?1 AND group_id = ?2 "
                                    "AND epoch > ?3 ORDER BY epoch LIMIT ?4",
                                    ReadCommit, tenant_id, group_id, after_epoch, limit);
    });
  }

  absl::StatusOr<uint64_t> AppendMessage(const std::string& tenant_id, const std::string& group_id,
                                         const std::string& message, uint64_t now_unix_millis,
                                         uint64_t expires_unix_millis, const RequestNonce* nonce) override {
    return Write([&](Connection& c) -> absl::StatusOr<uint64_t> {
      // A replayed nonce fails here and the transaction appends nothing. (The group's tenant exists
      // when the group does, which the counter's update below checks.)
      if (nonce != nullptr) ART_RETURN_IF_ERROR(ClaimNonce(c, tenant_id, *nonce));
      // The group's counter, bumped (under its row lock) in this transaction, so sequences are dense
      // per group and never reused, whichever replica appends.
      ART_ASSIGN_OR_RETURN(std::optional<int64_t> sequence,
                           QueryInt(c,
                                    "UPDATE groups SET last_message_sequence = last_message_sequence + 1 "
                                    "WHERE tenant_id = ?1 AND group_id = ?2 RETURNING last_message_sequence",
                                    tenant_id, group_id));
      if (!sequence) return GroupNotFound(group_id);
      ART_RETURN_IF_ERROR(c.Run("INSERT INTO messages (tenant_id, group_id, sequence, body, posted_unix_millis, "
                                "expires_unix_millis) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                tenant_id, group_id, *sequence, AsBlob(message), now_unix_millis, expires_unix_millis)
                              .status());
      return static_cast<uint64_t>(*sequence);
    });
  }

  absl::StatusOr<std::vector<StoredMessageRecord>> FetchMessages(const std::string& tenant_id,
                                                                 const std::string& group_id, uint64_t after_sequence,
                                                                 uint32_t limit, uint64_t now_unix_millis) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<StoredMessageRecord>> {
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      // A message is expired from its expiry instant on (the same rule as PurgeExpired).
      return QueryAll<StoredMessageRecord>(
          c,
          "SELECT sequence, body, posted_unix_millis FROM messages "
          "WHERE tenant_id = ?1 AND group_id = ?2 AND sequence > ?3 AND expires_unix_millis > ?4 "
          "ORDER BY sequence LIMIT ?5",
          [](const auto& r) { return StoredMessageRecord{r.Uint(0), r.BlobString(1), r.Uint(2)}; }, tenant_id,
          group_id, after_sequence, now_unix_millis, limit);
    });
  }

  absl::StatusOr<std::vector<StoredWelcome>> FetchWelcomes(const std::string& tenant_id,
                                                           const std::string& member_id) override {
    return Read([&](Connection& c) {
      return QueryAll<StoredWelcome>(
          c,
          "SELECT welcome_id, group_id, epoch, body FROM welcomes "
          "WHERE tenant_id = ?1 AND member_id = ?2 ORDER BY welcome_id",
          [](const auto& r) { return StoredWelcome{r.Uint(0), r.Text(1), r.Uint(2), r.BlobString(3)}; }, tenant_id,
          member_id);
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

  absl::StatusOr<uint64_t> RecordAlarm(const std::string& tenant_id, const AlarmRecord& alarm,
                                       const RequestNonce& nonce) override {
    return Write([&](Connection& c) -> absl::StatusOr<uint64_t> {
      ART_RETURN_IF_ERROR(ClaimNonce(c, tenant_id, nonce));
      ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, alarm.group_id).status());
      // The unique key (tenant, group, epoch, reporter) keeps the first report; a repeat reads its id.
      ART_RETURN_IF_ERROR(c.Run("INSERT INTO alarms (tenant_id, group_id, epoch, reporter_member_id, reason, detail, "
                                "reported_unix_millis) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                                tenant_id, alarm.group_id, alarm.epoch, alarm.reporter_member_id, alarm.reason,
                                alarm.detail, alarm.reported_unix_millis)
                              .status());
      ART_ASSIGN_OR_RETURN(std::optional<int64_t> id,
                           QueryInt(c,
                                    "SELECT alarm_id FROM alarms WHERE tenant_id = ?1 AND group_id = ?2 "
                                    "AND epoch = ?3 AND reporter_member_id = ?4",
                                    tenant_id, alarm.group_id, alarm.epoch, alarm.reporter_member_id));
      if (!id) return absl::InternalError("the alarm just recorded was not found");
      return static_cast<uint64_t>(*id);
    });
  }

  absl::StatusOr<std::vector<AlarmRecord>> ListAlarms(const std::string& tenant_id, const std::string& group_id,
                                                      uint64_t after_alarm_id, uint32_t limit) override {
    return Read([&](Connection& c) -> absl::StatusOr<std::vector<AlarmRecord>> {
      if (!group_id.empty()) ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
      return QueryAll<AlarmRecord>(
          c,
          "SELECT alarm_id, group_id, epoch, reporter_member_id, reason, detail, reported_unix_millis "
          "FROM alarms WHERE tenant_id = ?1 AND (?2 = '' OR group_id = ?2) AND alarm_id > ?3 "
          "ORDER BY alarm_id LIMIT ?4",
          [](const auto& r) {
            return AlarmRecord{r.Uint(0), r.Text(1), r.Uint(2), r.Text(3), r.Uint32(4), r.Text(5), r.Uint(6)};
          },
          tenant_id, group_id, after_alarm_id, limit);
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
                                  "VALUES (?1, ?2, ?3, 1, ?4)",
                                  tenant_id, member_id, name, AsBlob(ciphertext)));
        return uint64_t{1};
      }
      // The compare-and-swap in one statement: a racing writer re-checks the version after this one
      // commits (the row lock), and then matches nothing.
      ART_ASSIGN_OR_RETURN(int swapped, c.Run("UPDATE state_blobs SET version = version + 1, ciphertext = ?5 "
                                              "WHERE tenant_id = ?1 AND member_id = ?2 AND name = ?3 AND version = ?4",
                                              tenant_id, member_id, name, expected_version, AsBlob(ciphertext)));
      if (swapped == 1) return expected_version + 1;
      ART_ASSIGN_OR_RETURN(
          std::optional<int64_t> stored,
          QueryInt(c, "SELECT version FROM state_blobs WHERE tenant_id = ?1 AND member_id = ?2 AND name = ?3",
                   tenant_id, member_id, name));
      if (!stored) {
        return absl::FailedPreconditionError(
            absl::StrCat(blob, " does not exist (expected version ", expected_version, ")"));
      }
      return absl::FailedPreconditionError(absl::StrCat(blob, " is at version ", *stored, ", not ", expected_version));
    });
  }

  absl::StatusOr<StateBlob> GetStateBlob(const std::string& tenant_id, const std::string& member_id,
                                         const std::string& name) override {
    return Read([&](Connection& c) -> absl::StatusOr<StateBlob> {
      ART_ASSIGN_OR_RETURN(
          std::optional<StateBlob> blob,
          QueryOne<StateBlob>(c,
                              "SELECT version, ciphertext FROM state_blobs "
                              "WHERE tenant_id = ?1 AND member_id = ?2 AND name = ?3",
                              [](const auto& r) { return StateBlob{r.Uint(0), r.BlobString(1)}; }, tenant_id,
                              member_id, name));
      if (!blob) {
        return absl::NotFoundError(
            absl::StrCat("state blob ", Quote(name), " of member ", Quote(member_id), " not found"));
      }
      return *std::move(blob);
    });
  }

  absl::Status PurgeExpired(uint64_t now_unix_millis) override {
    return Write([&](Connection& c) -> absl::Status {
      ART_RETURN_IF_ERROR(c.Run("DELETE FROM messages WHERE expires_unix_millis <= ?1", now_unix_millis).status());
      return c.Run("DELETE FROM request_nonces WHERE expires_unix_millis <= ?1", now_unix_millis).status();
    });
  }

 protected:
  // Runs |body| in one read transaction (every statement sees one snapshot). Returns the body's
  // status, or the transaction's own failure.
  virtual absl::Status RunRead(absl::FunctionRef<absl::Status(Connection&)> body) = 0;
  // Runs |body| as one atomic write, durable when this returns OK. A body that fails changes nothing
  // and its status is returned; otherwise the transaction's (a failed COMMIT, say). The body may run
  // more than once (a retried serialization failure) but commits at most once.
  virtual absl::Status RunWrite(absl::FunctionRef<absl::Status(Connection&)> body) = 0;

 private:
  static constexpr uint32_t kNoLeafValue = 0xffffffffu;

  template <typename Body>
  auto Read(Body&& body) -> decltype(body(std::declval<Connection&>())) {
    return Transact(/*write=*/false, std::forward<Body>(body));
  }
  template <typename Body>
  auto Write(Body&& body) -> decltype(body(std::declval<Connection&>())) {
    return Transact(/*write=*/true, std::forward<Body>(body));
  }
  // Adapts a body returning absl::Status or absl::StatusOr<T> to RunRead / RunWrite.
  template <typename Body>
  auto Transact(bool write, Body&& body) -> decltype(body(std::declval<Connection&>())) {
    std::optional<decltype(body(std::declval<Connection&>()))> result;
    auto run = [&](Connection& c) -> absl::Status {
      result.emplace(body(c));
      return art::StatusOf(*result);
    };
    const absl::Status status = write ? RunWrite(run) : RunRead(run);
    if (!status.ok()) return status;
    if (!result.has_value()) return absl::InternalError("transaction body did not run");
    return *std::move(result);
  }

  // Row readers (each backend's connection has its own row type).
  static constexpr auto ReadText = [](const auto& r) { return r.Text(0); };
  static constexpr auto ReadBlobString = [](const auto& r) { return r.BlobString(0); };
  static constexpr auto ReadCommit = [](const auto& r) { return StoredCommit{r.Uint(0), r.BlobString(1)}; };

  static absl::Status GroupNotFound(const std::string& group_id) {
    return absl::NotFoundError(absl::StrCat("group ", Quote(group_id), " not found"));
  }

  static absl::Status RequireTenant(Connection& c, const std::string& tenant_id) {
    ART_ASSIGN_OR_RETURN(std::optional<int64_t> found,
                         QueryInt(c, "SELECT 1 FROM tenants WHERE tenant_id = ?1", tenant_id));
    if (!found) return absl::NotFoundError(absl::StrCat("tenant ", Quote(tenant_id), " not found"));
    return absl::OkStatus();
  }

  // Records a request nonce; the primary key claims it, so of two writers recording it at once one
  // gets ALREADY_EXISTS.
  static absl::Status ClaimNonce(Connection& c, const std::string& tenant_id, const RequestNonce& nonce) {
    return Claim(c, absl::StrCat("request nonce of member ", Quote(nonce.member_id), " was already used"),
                 "INSERT INTO request_nonces (tenant_id, member_id, nonce, expires_unix_millis) "
                 "VALUES (?1, ?2, ?3, ?4)",
                 tenant_id, nonce.member_id, AsBlob(nonce.nonce), nonce.expires_unix_millis);
  }

  // The group's current epoch (NOT_FOUND naming the group).
  static absl::StatusOr<uint64_t> CurrentEpoch(Connection& c, const std::string& tenant_id,
                                               const std::string& group_id) {
    ART_ASSIGN_OR_RETURN(
        std::optional<int64_t> epoch,
        QueryInt(c, "SELECT current_epoch FROM groups WHERE tenant_id = ?1 AND group_id = ?2", tenant_id, group_id));
    if (!epoch) return GroupNotFound(group_id);
    return static_cast<uint64_t>(*epoch);
  }

  // The header at |epoch|: NOT_FOUND naming the group when it does not exist, else naming the epoch.
  static absl::StatusOr<GroupHeaderRecord> HeaderAt(Connection& c, const std::string& tenant_id,
                                                    const std::string& group_id, uint64_t epoch) {
    ART_ASSIGN_OR_RETURN(std::optional<GroupHeaderRecord> header,
                         QueryOne<GroupHeaderRecord>(
                             c,
                             "SELECT epoch, leaf_count, tree_hash, interim_transcript_hash, leftmost_blank_leaf "
                             "FROM group_epochs WHERE tenant_id = ?1 AND group_id = ?2 AND epoch = ?3",
                             [](const auto& r) {
                               GroupHeaderRecord read;
                               read.epoch = r.Uint(0);
                               read.leaf_count = r.Uint32(1);
                               read.tree_hash = r.BlobBytes(2);
                               read.interim_transcript_hash = r.BlobBytes(3);
                               read.leftmost_blank_leaf = r.Uint32(4);
                               return read;
                             },
                             tenant_id, group_id, epoch));
    if (header) return *std::move(header);
    ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
    return absl::NotFoundError(absl::StrCat("epoch ", epoch, " of group ", Quote(group_id), " is not retained"));
  }

  // Every index of a versioned table as of |epoch|.
  template <typename Table>
  static absl::StatusOr<std::vector<typename Table::Record>> LoadAllAsOf(Connection& c, const std::string& tenant_id,
                                                                         const std::string& group_id, uint64_t epoch) {
    return QueryAll<typename Table::Record>(
        c, Table::kAllAsOf, [](const auto& r) { return Table::Read(r); }, tenant_id, group_id, epoch);
  }

  // The smallest leaf >= |from_leaf| whose current version is held by |member_id| (blank leaves have
  // an empty member id), or kNoLeafValue. Candidates come from the member index; one counts only if
  // it is its leaf's newest version (none is ever newer than the current epoch).
  static absl::StatusOr<uint32_t> CurrentLeafOf(Connection& c, const std::string& tenant_id,
                                                const std::string& group_id, const std::string& member_id,
                                                uint32_t from_leaf) {
    ART_RETURN_IF_ERROR(CurrentEpoch(c, tenant_id, group_id).status());
    ART_ASSIGN_OR_RETURN(std::optional<int64_t> leaf,
                         QueryInt(c,
                                  "SELECT l.leaf FROM leaves AS l "
                                  "WHERE l.tenant_id = ?1 AND l.group_id = ?2 AND l.member_id = ?3 AND l.leaf >= ?4 "
                                  "AND l.epoch_from = ("
                                  "  SELECT MAX(v.epoch_from) FROM leaves AS v "
                                  "  WHERE v.tenant_id = ?1 AND v.group_id = ?2 AND v.leaf = l.leaf) "
                                  "ORDER BY l.leaf LIMIT 1",
                                  tenant_id, group_id, member_id, from_leaf));
    return leaf ? static_cast<uint32_t>(*leaf) : kNoLeafValue;
  }

  // Writes everything one epoch adds: its header, the new node and leaf versions (current from that
  // epoch on) and the commit that created it (the Setup for epoch 0).
  static absl::Status InsertEpoch(Connection& c, const std::string& tenant_id, const std::string& group_id,
                                  const GroupHeaderRecord& header, const std::vector<NodeRecord>& nodes,
                                  const std::vector<LeafRecord>& leaves, const std::string& commit) {
    const uint64_t epoch = header.epoch;
    ART_RETURN_IF_ERROR(c.Run("INSERT INTO group_epochs (tenant_id, group_id, epoch, leaf_count, tree_hash, "
                              "interim_transcript_hash, leftmost_blank_leaf) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                              tenant_id, group_id, epoch, header.leaf_count, AsBlob(header.tree_hash),
                              AsBlob(header.interim_transcript_hash), header.leftmost_blank_leaf)
                            .status());
    for (const NodeRecord& node : nodes) {
      ART_RETURN_IF_ERROR(Claim(c, absl::StrCat("node ", node.node, " is listed twice"),
                                "INSERT INTO nodes (tenant_id, group_id, node, epoch_from, public_key, hash) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                tenant_id, group_id, node.node, epoch, AsBlob(node.public_key), AsBlob(node.hash)));
    }
    for (const LeafRecord& leaf : leaves) {
      ART_RETURN_IF_ERROR(Claim(c, absl::StrCat("leaf ", leaf.leaf, " is listed twice"),
                                "INSERT INTO leaves (tenant_id, group_id, leaf, epoch_from, member_id, credential, "
                                "credential_hash, signing_key, keyed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                tenant_id, group_id, leaf.leaf, epoch, leaf.member_id, AsBlob(leaf.credential),
                                AsBlob(leaf.credential_hash), AsBlob(leaf.signing_key), leaf.keyed_by));
    }
    return c
        .Run("INSERT INTO commits (tenant_id, group_id, epoch, body) VALUES (?1, ?2, ?3, ?4)", tenant_id, group_id,
             epoch, AsBlob(commit))
        .status();
  }

  static absl::StatusOr<PrekeyCounts> ReadPrekeyCounts(Connection& c, const std::string& tenant_id,
                                                       const std::string& member_id) {
    // One row: the count, and the signed prekey's id and expiry (NULL without one).
    ART_ASSIGN_OR_RETURN(
        std::optional<PrekeyCounts> counts,
        QueryOne<PrekeyCounts>(
            c,
            "SELECT (SELECT COUNT(*) FROM one_time_prekeys WHERE tenant_id = ?1 AND member_id = ?2), "
            "s.prekey_id, s.expiry_unix_seconds FROM (SELECT 1) AS one LEFT JOIN signed_prekeys AS s "
            "ON s.tenant_id = ?1 AND s.member_id = ?2",
            [](const auto& r) {
              PrekeyCounts read;
              read.one_time_remaining = r.Uint32(0);
              if (!r.IsNull(1)) {
                read.signed_prekey_id = r.Uint32(1);
                read.signed_prekey_expiry_unix_seconds = r.Uint(2);
              }
              return read;
            },
            tenant_id, member_id));
    if (!counts) return absl::InternalError("counting prekeys returned no row");
    return *counts;
  }

  static absl::StatusOr<std::string> RequireIdentity(Connection& c, const std::string& tenant_id,
                                                     const std::string& member_id) {
    ART_ASSIGN_OR_RETURN(
        std::optional<std::string> credential,
        QueryOne<std::string>(c, "SELECT credential FROM identities WHERE tenant_id = ?1 AND member_id = ?2",
                              ReadBlobString, tenant_id, member_id));
    if (!credential) return absl::NotFoundError(absl::StrCat("identity of member ", Quote(member_id), " not found"));
    return *std::move(credential);
  }
};

}  // namespace artd::sql

#endif  // STORAGE_SQL_SQL_STORE_H_
