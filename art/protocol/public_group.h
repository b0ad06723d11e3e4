// The public state of a group and every check that public data allows. The service runs exactly
// these checks before it accepts a setup or a commit; members run them too, then add the checks only
// secrets allow (confirmation tag, recomputed path keys).
//
// PublicGroup is a value. Staging a commit validates it completely and computes its effect without
// modifying the group; applying the staged commit cannot fail.
#ifndef ART_PROTOCOL_PUBLIC_GROUP_H_
#define ART_PROTOCOL_PUBLIC_GROUP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "api/art/v1/protocol.pb.h"
#include "art/crypto/bytes.h"
#include "art/identity/credential.h"
#include "art/protocol/encodings.h"
#include "art/tree/public_tree.h"

namespace art {

// Commits are refused from this epoch on, so the epoch counter can never wrap.
inline constexpr uint64_t kMaxEpoch = UINT64_MAX - 2;
inline constexpr size_t kMaxGroupIdSize = 256;

// A commit that passed every public check, with its effect on the group.
struct StagedPublicCommit {
  CommitType type = CommitType::kUpdate;
  LeafIndex signer_leaf = 0;
  // The leaf the path starts at: the signer's (update), the new one (add), the removed one (remove).
  LeafIndex path_leaf = 0;
  std::vector<X25519PublicKey> path_keys;
  TreeChange tree_change;
  // The added member (add only).
  std::optional<VerifiedCredential> added;
  // The member that held |path_leaf| before a remove.
  std::optional<LeafOccupant> removed;
  Sha256Digest confirmed_transcript_hash{};
  Sha256Digest interim_transcript_hash{};
  // The commit content || signature, as hashed into the transcript.
  Bytes commit_without_tag;
};

// The public facts of a group at one epoch, besides its tree.
struct GroupHeader {
  std::string tenant_id;
  Bytes group_id;
  uint64_t epoch = 0;
  Sha256Digest interim_transcript_hash{};
};

// Checks |commit| against the group at |header|'s epoch with |tree| (a PublicTree, or the PartialTree
// a service loads for this commit): group, epoch (FAILED_PRECONDITION naming the current epoch when
// stale), signer, signature (PERMISSION_DENIED), body, indices, path length, point validity, the
// blank-sibling copy rule and the new tree hash (INVALID_ARGUMENT). Changes nothing.
template <typename Tree>
absl::StatusOr<StagedPublicCommit> StageCommitOn(const GroupHeader& header, const Tree& tree,
                                                 const v1::Commit& commit,
                                                 absl::Span<const Ed25519PublicKey> trusted_tenant_keys);

class PublicGroup {
 public:
  // An empty placeholder to assign a real group to.
  PublicGroup() = default;

  // Verifies a Setup with public data only: sizes, point validity, every credential (against
  // |trusted_tenant_keys| when not empty), distinct members, the creator's signature and the tree hash.
  // Returns epoch 0's public state.
  static absl::StatusOr<PublicGroup> FromSetup(std::string_view tenant_id, const v1::Setup& setup,
                                               absl::Span<const Ed25519PublicKey> trusted_tenant_keys);

  // A group from inputs a member built or verified itself: the creator's epoch 0, or a stored state
  // (see MemberGroup::Deserialize). Nothing is checked again.
  static PublicGroup FromLoadedState(GroupHeader header, PublicTree tree);

  // Loads a fetched or stored public state, verifying every credential and recomputing the tree hash;
  // fails unless it equals the state's stated tree hash.
  static absl::StatusOr<PublicGroup> FromProto(const v1::PublicGroupState& state,
                                               std::string_view expected_tenant_id,
                                               absl::Span<const Ed25519PublicKey> trusted_tenant_keys);

  // The public state as sent to a newcomer; |credential_of| supplies each occupied leaf's full
  // credential (the group keeps only its hash).
  v1::PublicGroupState ToProto(
      absl::FunctionRef<const v1::Credential*(LeafIndex)> credential_of) const;

  // StageCommitOn this group's header and tree.
  absl::StatusOr<StagedPublicCommit> StageCommit(
      const v1::Commit& commit, absl::Span<const Ed25519PublicKey> trusted_tenant_keys) const {
    return StageCommitOn(header_, tree_, commit, trusted_tenant_keys);
  }

  // Moves to the next epoch with a commit staged on this exact state.
  void Apply(StagedPublicCommit staged);

  const GroupHeader& header() const { return header_; }
  const std::string& tenant_id() const { return header_.tenant_id; }
  const Bytes& group_id() const { return header_.group_id; }
  uint64_t epoch() const { return header_.epoch; }
  const PublicTree& tree() const { return tree_; }
  const Sha256Digest& tree_hash() const { return tree_.tree_hash(); }
  const Sha256Digest& interim_transcript_hash() const { return header_.interim_transcript_hash; }

 private:
  GroupHeader header_;
  PublicTree tree_;
};

// The interim transcript hash after a Setup (epoch 0).
Sha256Digest SetupInterimTranscriptHash(std::string_view tenant_id, const v1::Setup& setup);

// Validates a group id's size.
absl::Status ValidateGroupId(const std::string& group_id);

}  // namespace art

#endif  // ART_PROTOCOL_PUBLIC_GROUP_H_
