// A member's view of a group: the public state plus everything only this member knows (its leaf and
// path key pairs, the epoch's secrets and message keys). Lives only on the member's device.
//
// MemberGroup is a value. Every operation that consumes input (ProcessCommit, Unprotect) validates
// completely before it changes anything, so a rejected input leaves the group exactly as it was.
// Creating a commit does not change the group either: it returns a PendingCommit to send, which is
// applied with ApplyPendingCommit once the service has accepted it (and dropped if the service
// refused it, e.g. because another commit won the epoch).
//
// Not thread-safe: one thread at a time per MemberGroup (copies are independent).
#ifndef ART_PROTOCOL_MEMBER_GROUP_H_
#define ART_PROTOCOL_MEMBER_GROUP_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "api/art/v1/protocol.pb.h"
#include "art/identity/credential.h"
#include "art/identity/prekeys.h"
#include "art/protocol/message_keys.h"
#include "art/protocol/path_derivation.h"
#include "art/protocol/public_group.h"
#include "art/schedule/key_schedule.h"

namespace art {

// Settings a member applies to every group.
struct GroupConfig {
  std::string tenant_id;
  // The tenant's credential public keys: identities not certified by one of them are refused.
  std::vector<Ed25519PublicKey> trusted_tenant_keys;
  // How long the previous epoch's message keys stay for late messages.
  absl::Duration previous_epoch_retention = absl::Minutes(10);
  // Threads for the creator's setup (0: one per core).
  int setup_threads = 0;
  // The clock (tests replace it).
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // The current time for prekey expiry checks, in Unix seconds (0 skips the check).
  std::function<uint64_t()> unix_seconds = [] {
    return static_cast<uint64_t>(absl::ToUnixSeconds(absl::Now()));
  };
};

// Everything a staged epoch change installs: shared by commits this member makes and commits it
// processes, so both paths end in the same Apply.
struct EpochTransition {
  StagedPublicCommit public_commit;
  // This member's new key pairs on its own direct path (replacing those nodes), bottom up.
  std::vector<NodeKey> own_path_keys;
  EpochSecrets secrets;
  bool removes_this_member = false;
};

// A commit this member made, not yet accepted by the service.
struct PendingCommit {
  v1::Commit commit;
  std::optional<v1::Welcome> welcome;  // For an Add: deliver to the newcomer with the commit.
  EpochTransition transition;
  // The fresh secret the commit's path starts from. Persist it (encrypted) with the commit before
  // sending: if the process stops after the service accepted the commit but before the state was
  // saved, MemberGroup::RecoverOwnCommit rebuilds the transition from it.
  SecretBytes path_leaf_secret;
};

// An application message after decryption and verification.
struct ReceivedMessage {
  uint64_t epoch = 0;
  LeafIndex sender_leaf = 0;
  std::string sender_member_id;
  uint32_t content_type = 0;
  SecretBytes content;
};

class MemberGroup {
 public:
  struct Created;

  // Creates a group of |creator| (leaf 0) and the members of |bundles| (leaves 1..n-1, in order):
  // verifies every bundle, derives every leaf and node key (in parallel), keeps only its own path and
  // returns the group with the Setup to publish.
  static absl::StatusOr<Created> Create(const GroupConfig& config, const MemberIdentity& creator,
                                        std::string group_id,
                                        absl::Span<const v1::PrekeyBundle> bundles);

  // Joins from a Setup: verifies it, finds this member's leaf, derives the leaf from the prekeys
  // named in the Setup and checks it and the whole path. Erases the one-time prekey it consumed
  // from |prekeys| only on success.
  static absl::StatusOr<MemberGroup> JoinFromSetup(const GroupConfig& config,
                                                   const MemberIdentity& identity,
                                                   PrekeySecrets* prekeys, const v1::Setup& setup);

  // Joins from a Welcome, the Add commit it names and the group's public state right after that
  // commit (fetched from the service): decrypts the Welcome, checks its header against the commit,
  // the commit's signature, the fetched tree against the commit's tree hash, this member's leaf and
  // whole path, and the confirmation tag. Erases the consumed one-time prekey on success.
  static absl::StatusOr<MemberGroup> JoinFromWelcome(const GroupConfig& config,
                                                     const MemberIdentity& identity,
                                                     PrekeySecrets* prekeys,
                                                     const v1::Welcome& welcome,
                                                     const v1::Commit& add_commit,
                                                     const v1::PublicGroupState& state_after);

  // A fresh leaf key and path from this member's leaf.
  absl::StatusOr<PendingCommit> CreateUpdate() const;
  // Adds the member of |bundle| at the leftmost blank leaf (else appends), with its Welcome.
  absl::StatusOr<PendingCommit> CreateAdd(const v1::PrekeyBundle& bundle) const;
  // Removes the member at |leaf| (not this member).
  absl::StatusOr<PendingCommit> CreateRemove(LeafIndex leaf) const;
  // As CreateRemove, with the fresh leaf key given: only for tests that play a remover who kept it.
  absl::StatusOr<PendingCommit> CreateRemoveWithKeyForTesting(LeafIndex leaf,
                                                              const X25519PrivateKey& fresh_key) const;

  // Installs this member's own commit once the service has accepted it.
  void ApplyPendingCommit(PendingCommit pending);

  // Applies this member's own |commit| for the current epoch, found in the service's log after a
  // restart, from the |path_leaf_secret| kept with it: runs every check ProcessCommit runs (the
  // signature, the path keys it derives, the confirmation tag) and moves to the next epoch.
  absl::Status RecoverOwnCommit(const v1::Commit& commit, ByteSpan path_leaf_secret);

  // Verifies another member's commit for the current epoch and moves to the next epoch. If the commit
  // removes this member, the group becomes inactive (is_active() is false) and all secrets are erased.
  absl::Status ProcessCommit(const v1::Commit& commit);

  // Encrypts and signs |content| for the group under this member's next message key. The key is
  // consumed: persist the group before sending the result.
  absl::StatusOr<v1::ApplicationMessage> Protect(uint32_t content_type, ByteSpan content);

  // Decrypts and verifies a message of the current epoch (or of the previous one, within the
  // retention time). Nothing is consumed unless everything verifies.
  absl::StatusOr<ReceivedMessage> Unprotect(const v1::ApplicationMessage& message);

  // A secret for the application, bound to this epoch, |label| and |context|.
  absl::StatusOr<SecretBytes> Export(std::string_view label, ByteSpan context, size_t length) const;

  // Erases the previous epoch's message keys if their retention time has passed.
  void ExpirePreviousEpoch();

  // The whole state, every secret included, for the SDK to encrypt and store (never to send in
  // clear). Deserialize restores it for |identity|, whose keys are not part of it, and checks that
  // the stored tree is intact and that |identity| is the member at its leaf.
  absl::StatusOr<SecretBytes> Serialize() const;
  static absl::StatusOr<MemberGroup> Deserialize(const GroupConfig& config, const MemberIdentity& identity,
                                                 ByteSpan serialized);

  bool is_active() const { return active_; }
  uint64_t epoch() const { return public_group_.epoch(); }
  LeafIndex own_leaf() const { return own_leaf_; }
  const PublicGroup& public_group() const { return public_group_; }
  const Sha256Digest& tree_hash() const { return public_group_.tree_hash(); }
  // Shared by every member of the epoch; safe to compare openly.
  const SecretBytes& epoch_authenticator() const { return secrets_.authenticator; }
  // True when this member should update before it sends: it has never updated its own leaf since it
  // was keyed by someone else, or a leaf in its sibling subtree is keyed by someone else.
  bool ShouldUpdateBeforeSending() const;
  // Approximate heap bytes of this member's state (public tree, path keys, message keys).
  size_t MemoryUsage() const;

  // For tests of the security properties: the secrets this member holds.
  const EpochSecrets& secrets_for_testing() const { return secrets_; }
  const std::vector<NodeKey>& path_keys_for_testing() const { return path_keys_; }

 private:
  MemberGroup() = default;

  // The end of every join: derives and checks this member's path in |public_group|, runs the key
  // schedule from |previous_init| and |confirmed|, checks |tag|, and spends the one-time prekey.
  static absl::StatusOr<MemberGroup> FinishJoin(const GroupConfig& config, const MemberIdentity& identity,
                                                PrekeySecrets* prekeys, PublicGroup public_group,
                                                LeafIndex own_leaf, const X25519PrivateKey& leaf_key,
                                                const SecretBytes& previous_init, const Sha256Digest& confirmed,
                                                const std::string& tag, std::optional<uint32_t> one_time_id);
  // Own key pair for |node|, or nullptr.
  const X25519PrivateKey* OwnKey(NodeIndex node) const;
  // This member's new direct-path keys among a path's derived keys (its leaf's when the path starts
  // there); the rest are not kept.
  std::vector<NodeKey> OwnPathKeys(LeafIndex path_leaf, const X25519PrivateKey& path_leaf_key,
                                   std::vector<NodeKey> ancestors) const;
  // Finishes a commit this member signs: tree change, signature, schedule, tag.
  absl::StatusOr<PendingCommit> FinishCommit(v1::Commit commit, LeafIndex path_leaf,
                                             const X25519PrivateKey& path_leaf_key) const;
  // Derives the next epoch's secrets for a staged public commit and a root key.
  absl::StatusOr<EpochSecrets> NextEpochSecrets(const StagedPublicCommit& staged,
                                                const X25519PrivateKey& root_key) const;
  void ApplyTransition(EpochTransition transition);
  // Verifies the signature inside a decrypted message.
  absl::Status VerifyMessageSignature(const v1::ApplicationMessage& message, ByteSpan aad,
                                      ByteSpan content, ByteSpan signature,
                                      const Ed25519PublicKey& signer) const;

  GroupConfig config_;
  PublicGroup public_group_;
  LeafIndex own_leaf_ = 0;
  bool active_ = true;
  std::optional<Ed25519PrivateKey> signing_key_;
  std::optional<X25519PrivateKey> identity_dh_key_;
  v1::Credential own_credential_;
  // Own leaf and direct path key pairs, bottom up.
  std::vector<NodeKey> path_keys_;
  EpochSecrets secrets_;
  EpochMessageKeys message_keys_;
  // The previous epoch's message keys, kept for late messages until |previous_expiry|.
  std::optional<EpochMessageKeys> previous_message_keys_;
  absl::Time previous_expiry_;
  // The member that left the changed leaf in the last commit (to verify its late messages).
  LeafIndex previous_changed_leaf_ = kNoLeaf;
  std::optional<LeafOccupant> previous_changed_occupant_;
};

struct MemberGroup::Created {
  MemberGroup group;
  v1::Setup setup;
};

}  // namespace art

#endif  // ART_PROTOCOL_MEMBER_GROUP_H_
