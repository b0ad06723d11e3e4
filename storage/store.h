// The storage interface of the artd service: only public tree state and opaque encrypted blobs, every
// row keyed by tenant. One interface, two backends (SQLite, the embedded default; PostgreSQL for
// replicas) that share one implementation of the operations (storage/sql), one conformance test suite.
//
// Operations are domain-level and each is one transaction, so a backend can make the ones that must
// be atomic across replicas (the epoch compare-and-swap with the commit append, the one-time prekey
// hand-out, the state-blob compare-and-swap, the nonce check) atomic in its own way.
//
// Tenants must exist: a write for an unknown tenant is NOT_FOUND. A call naming an unknown group is
// NOT_FOUND. Something expires at its expiry instant (expired when expires <= now).
//
// The tree is versioned: a commit adds new versions of the O(log n) nodes and the leaf it changes, so
// a commit writes only its path and the tree at any retained epoch can still be read (a newcomer
// needs the tree of the epoch its Add created).
#ifndef STORAGE_STORE_H_
#define STORAGE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "art/crypto/bytes.h"
#include "art/tree/tree_math.h"

namespace artd {

using art::Bytes;
using art::LeafIndex;
using art::NodeIndex;

// ---- Records ----

struct PrekeyCounts {
  uint32_t one_time_remaining = 0;
  std::optional<uint32_t> signed_prekey_id;
  uint64_t signed_prekey_expiry_unix_seconds = 0;
};

// A serialized signed prekey and, when one was left, a one-time prekey taken for this bundle.
struct TakenBundle {
  std::string credential;       // Serialized art.v1.Credential.
  std::string signed_prekey;    // Serialized art.v1.SignedPrekey.
  std::string one_time_prekey;  // Serialized art.v1.OneTimePrekey; empty when none were left.
};

// The public facts of a group at one epoch besides its tree.
struct GroupHeaderRecord {
  uint64_t epoch = 0;
  uint32_t leaf_count = 0;
  Bytes tree_hash;
  Bytes interim_transcript_hash;
  // The leftmost blank leaf at this epoch, or art::kNoLeaf's value (0xffffffff).
  uint32_t leftmost_blank_leaf = 0xffffffffu;
};

// One node of the tree: its public key (empty when it has none) and its tree hash.
struct NodeRecord {
  NodeIndex node = 0;
  Bytes public_key;
  Bytes hash;
};

// One leaf's occupancy. A blank leaf has an empty member_id and credential.
struct LeafRecord {
  LeafIndex leaf = 0;
  std::string member_id;
  std::string credential;  // Serialized art.v1.Credential.
  Bytes credential_hash;
  Bytes signing_key;
  uint32_t keyed_by = 0xffffffffu;  // art::kNoLeaf when only the owner knows the leaf's secret.
};

// A member request's nonce, to be recorded until |expires_unix_millis| in the same transaction as the
// write the request authorizes (a replayed request then changes nothing).
struct RequestNonce {
  std::string member_id;
  Bytes nonce;
  uint64_t expires_unix_millis = 0;
};

// Everything one accepted commit writes, in one transaction with the epoch compare-and-swap.
struct CommitWrite {
  uint64_t expected_epoch = 0;      // The epoch the commit moves from.
  GroupHeaderRecord new_header;     // epoch = expected_epoch + 1.
  std::vector<NodeRecord> nodes;    // New versions of changed nodes (path, a dropped leaf key).
  std::vector<LeafRecord> leaves;   // New versions of changed leaves.
  std::string commit;               // Serialized art.v1.Commit, appended to the log.
  // With an Add: the Welcome for the newcomer (serialized art.v1.Welcome) and who it is for.
  std::string welcome;
  std::string welcome_member_id;
  // With a MemberAuth: its nonce, recorded in the same transaction (one durable write per commit).
  std::optional<RequestNonce> nonce;
};

// What a request reads of a group's tree, chosen once the current header is known (ReadGroupView).
struct TreeSelection {
  uint64_t epoch = 0;                   // The epoch to read the tree as of: the current one or one retained.
  std::vector<NodeIndex> nodes;         // Rows that do not exist are omitted.
  std::vector<LeafIndex> leaves;
};

// A group as one request sees it: its current header and the selected part of its tree, read in one
// transaction (one snapshot).
struct GroupView {
  GroupHeaderRecord current;
  std::vector<NodeRecord> nodes;   // In the order selected.
  std::vector<LeafRecord> leaves;  // In the order selected.
};

struct StoredCommit {
  uint64_t epoch = 0;  // The epoch the commit created.
  std::string commit;  // Serialized art.v1.Commit (for epoch 0: the serialized art.v1.Setup).
};

struct StoredMessageRecord {
  uint64_t sequence = 0;
  std::string message;  // Serialized art.v1.ApplicationMessage.
  uint64_t posted_unix_millis = 0;
};

struct StoredWelcome {
  uint64_t welcome_id = 0;
  std::string group_id;
  uint64_t epoch = 0;      // The epoch the Add created.
  std::string welcome;     // Serialized art.v1.Welcome.
};

// A member's alarm about a commit the service accepted (see api/art/v1/service.proto, ReportAlarm).
struct AlarmRecord {
  uint64_t alarm_id = 0;  // Assigned by the store, increasing; ignored by RecordAlarm.
  std::string group_id;
  uint64_t epoch = 0;     // The epoch the reported commit was made from.
  std::string reporter_member_id;
  uint32_t reason = 0;    // art.v1.AlarmReason.
  std::string detail;
  uint64_t reported_unix_millis = 0;
};

struct StateBlob {
  uint64_t version = 0;
  std::string ciphertext;
};

// How much one tenant holds: its groups, and the occupied leaves at their current epochs (a member in
// two groups counts twice).
struct TenantUsage {
  std::string tenant_id;
  uint64_t groups = 0;
  uint64_t members = 0;
};

// ---- The interface ----

class Store {
 public:
  virtual ~Store() = default;

  // Tenants and their API keys (only a hash of a key is stored).
  // ALREADY_EXISTS for an existing tenant; AddApiKey: for a key id or hash already stored.
  virtual absl::Status CreateTenant(const std::string& tenant_id) = 0;
  virtual absl::Status AddApiKey(const std::string& tenant_id, const std::string& key_id,
                                 const Bytes& key_hash) = 0;
  // NOT_FOUND for an unknown key id; revoking a revoked key is OK.
  virtual absl::Status RevokeApiKey(const std::string& key_id) = 0;
  // The tenant of a live key, or NOT_FOUND (unknown or revoked).
  virtual absl::StatusOr<std::string> TenantForApiKey(const Bytes& key_hash) = 0;
  // The tenant's credential public keys (Ed25519), used to check members' credentials, in the order
  // added. Adding a key the tenant has is ALREADY_EXISTS; listing for an unknown tenant NOT_FOUND.
  virtual absl::Status AddTenantCredentialKey(const std::string& tenant_id, const Bytes& public_key) = 0;
  virtual absl::StatusOr<std::vector<Bytes>> TenantCredentialKeys(const std::string& tenant_id) = 0;

  // Client certificates bound to tenants, by the SHA-256 fingerprint of the certificate's DER
  // encoding. Binding: NOT_FOUND for an unknown tenant, ALREADY_EXISTS when the fingerprint is bound
  // (to any tenant). Unbinding: NOT_FOUND when it is not bound. Lookup: the tenant, or NOT_FOUND.
  virtual absl::Status BindClientCertificate(const std::string& tenant_id, const Bytes& fingerprint) = 0;
  virtual absl::Status UnbindClientCertificate(const Bytes& fingerprint) = 0;
  virtual absl::StatusOr<std::string> TenantForClientCertificate(const Bytes& fingerprint) = 0;

  // Every tenant (also those without groups) with its group and member counts, ordered by tenant id.
  // Reads every group's current leaves: meant for a periodic refresh, not for a request path.
  virtual absl::StatusOr<std::vector<TenantUsage>> CountTenantUsage() = 0;

  // Records a request nonce of a member until |expires_unix_millis|; ALREADY_EXISTS if it was seen
  // (and not yet purged by PurgeExpired).
  virtual absl::Status RecordRequestNonce(const std::string& tenant_id, const std::string& member_id,
                                          const Bytes& nonce, uint64_t expires_unix_millis) = 0;

  // Identities. Publishing the same credential again is a no-op; a different one for the same member
  // is ALREADY_EXISTS.
  virtual absl::Status PutIdentity(const std::string& tenant_id, const std::string& member_id,
                                   const std::string& credential) = 0;
  virtual absl::StatusOr<std::string> GetIdentity(const std::string& tenant_id,
                                                  const std::string& member_id) = 0;

  // Prekeys. Replaces the signed prekey when |signed_prekey| is not empty; adds one-time prekeys
  // (by id; a duplicate id is ALREADY_EXISTS and nothing is written). RESOURCE_EXHAUSTED if the
  // member would hold more than |max_one_time| unused one-time prekeys. Returns the counts after.
  virtual absl::StatusOr<PrekeyCounts> PutPrekeys(
      const std::string& tenant_id, const std::string& member_id, const std::string& signed_prekey,
      uint32_t signed_prekey_id, uint64_t signed_prekey_expiry,
      const std::vector<std::pair<uint32_t, std::string>>& one_time_prekeys, uint32_t max_one_time) = 0;
  virtual absl::StatusOr<PrekeyCounts> CountPrekeys(const std::string& tenant_id,
                                                    const std::string& member_id) = 0;
  // Atomically takes one one-time prekey (never the same one twice, whatever the concurrency) with the
  // signed prekey and credential. NOT_FOUND when the member has no identity or signed prekey.
  virtual absl::StatusOr<TakenBundle> TakePrekeyBundle(const std::string& tenant_id,
                                                       const std::string& member_id) = 0;

  // Groups. CreateGroup writes epoch 0 (all leaves and nodes, the Setup as commit 0); ALREADY_EXISTS
  // if the group id is taken in this tenant. |header.epoch| must be 0.
  virtual absl::Status CreateGroup(const std::string& tenant_id, const std::string& group_id,
                                   const GroupHeaderRecord& header, const std::vector<LeafRecord>& leaves,
                                   const std::vector<NodeRecord>& nodes, const std::string& setup) = 0;
  // The current header (NOT_FOUND for an unknown group), or the header at |epoch| (NOT_FOUND when that
  // epoch is not retained).
  virtual absl::StatusOr<GroupHeaderRecord> GroupHeader(const std::string& tenant_id,
                                                        const std::string& group_id,
                                                        std::optional<uint64_t> epoch) = 0;
  absl::StatusOr<GroupHeaderRecord> GroupHeader(const std::string& tenant_id, const std::string& group_id) {
    return GroupHeader(tenant_id, group_id, std::nullopt);
  }
  // The current header (NOT_FOUND for an unknown group), then the nodes and leaves that |select| chooses
  // from it, as of the epoch it names, all in one read transaction (one snapshot, one round trip). An
  // error from |select| is returned as it is; NOT_FOUND when the selected epoch is not retained.
  virtual absl::StatusOr<GroupView> ReadGroupView(
      const std::string& tenant_id, const std::string& group_id,
      absl::FunctionRef<absl::StatusOr<TreeSelection>(const GroupHeaderRecord& current)> select) = 0;
  // Every node and leaf as of |epoch|.
  virtual absl::Status LoadTree(const std::string& tenant_id, const std::string& group_id, uint64_t epoch,
                                std::vector<NodeRecord>* nodes, std::vector<LeafRecord>* leaves) = 0;
  // The leaf of |member_id| at the current epoch, or art::kNoLeaf's value.
  virtual absl::StatusOr<uint32_t> FindMemberLeaf(const std::string& tenant_id,
                                                  const std::string& group_id,
                                                  const std::string& member_id) = 0;
  // Applies an accepted commit if the group is still at |write.expected_epoch|; otherwise ABORTED
  // with "current epoch N" in the message and nothing written. |write.new_header.epoch| must be
  // expected_epoch + 1. A |write.nonce| already recorded gives ALREADY_EXISTS and nothing written.
  virtual absl::Status ApplyCommit(const std::string& tenant_id, const std::string& group_id,
                                   const CommitWrite& write) = 0;
  // The smallest blank leaf >= |from_leaf| at the current epoch, or art::kNoLeaf's value.
  virtual absl::StatusOr<uint32_t> NextBlankLeaf(const std::string& tenant_id, const std::string& group_id,
                                                 uint32_t from_leaf) = 0;
  // The commit that created |epoch| (for epoch 0, the serialized Setup); NOT_FOUND if not retained.
  virtual absl::StatusOr<StoredCommit> GetCommit(const std::string& tenant_id, const std::string& group_id,
                                                 uint64_t epoch) = 0;
  // Commits creating epochs after |after_epoch|, oldest first, at most |limit|.
  virtual absl::StatusOr<std::vector<StoredCommit>> ListCommits(const std::string& tenant_id,
                                                                const std::string& group_id,
                                                                uint64_t after_epoch, uint32_t limit) = 0;

  // Mailbox. Messages get increasing sequence numbers per group (from 1, never reused). FetchMessages
  // returns unexpired messages after |after_sequence|, oldest first, at most |limit|. AppendMessage
  // records |nonce| (when not null) in the same transaction, as RecordRequestNonce would: a used nonce
  // is ALREADY_EXISTS and appends nothing. One durable write per post instead of two.
  virtual absl::StatusOr<uint64_t> AppendMessage(const std::string& tenant_id, const std::string& group_id,
                                                 const std::string& message, uint64_t now_unix_millis,
                                                 uint64_t expires_unix_millis, const RequestNonce* nonce) = 0;
  virtual absl::StatusOr<std::vector<StoredMessageRecord>> FetchMessages(
      const std::string& tenant_id, const std::string& group_id, uint64_t after_sequence,
      uint32_t limit, uint64_t now_unix_millis) = 0;
  virtual absl::StatusOr<std::vector<StoredWelcome>> FetchWelcomes(const std::string& tenant_id,
                                                                   const std::string& member_id) = 0;
  // NOT_FOUND if there is no such Welcome for the member.
  virtual absl::Status DeleteWelcome(const std::string& tenant_id, const std::string& member_id,
                                     uint64_t welcome_id) = 0;

  // Records |alarm| with the reporter's request nonce (ALREADY_EXISTS if the nonce was used) and
  // returns its id. The same member reporting the same group and epoch again records nothing and gets
  // the first report's id. NOT_FOUND for an unknown group.
  virtual absl::StatusOr<uint64_t> RecordAlarm(const std::string& tenant_id, const AlarmRecord& alarm,
                                               const RequestNonce& nonce) = 0;
  // The tenant's alarms with ids above |after_alarm_id|, oldest first, at most |limit|; of one group
  // when |group_id| is not empty (NOT_FOUND if it does not exist).
  virtual absl::StatusOr<std::vector<AlarmRecord>> ListAlarms(const std::string& tenant_id,
                                                              const std::string& group_id,
                                                              uint64_t after_alarm_id, uint32_t limit) = 0;

  // State blobs with compare-and-swap: |expected_version| 0 creates (ALREADY_EXISTS if present);
  // otherwise FAILED_PRECONDITION unless the stored version matches (also when there is none). Returns
  // the new version (1 when created).
  virtual absl::StatusOr<uint64_t> PutStateBlob(const std::string& tenant_id, const std::string& member_id,
                                                const std::string& name, uint64_t expected_version,
                                                const std::string& ciphertext) = 0;
  virtual absl::StatusOr<StateBlob> GetStateBlob(const std::string& tenant_id, const std::string& member_id,
                                                 const std::string& name) = 0;

  // Deletes expired messages and nonces.
  virtual absl::Status PurgeExpired(uint64_t now_unix_millis) = 0;
};

}  // namespace artd

#endif  // STORAGE_STORE_H_
