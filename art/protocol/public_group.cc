#include "art/protocol/public_group.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "art/base/parallel.h"
#include "art/base/status_macros.h"
#include "art/schedule/key_schedule.h"
#include "art/suite/labeled.h"
#include "art/tree/partial_tree.h"
#include "art/wire/fields.h"

namespace art {
namespace {

// Parses a path's keys, naming the offending index on error.
absl::StatusOr<std::vector<X25519PublicKey>> ParsePathKeys(const v1::PathKeys& path,
                                                          std::string_view field) {
  std::vector<X25519PublicKey> keys;
  keys.reserve(path.public_keys_size());
  for (int i = 0; i < path.public_keys_size(); ++i) {
    ART_ASSIGN_OR_RETURN(X25519PublicKey key,
                         ParseX25519PublicKey(path.public_keys(i), absl::StrCat(std::string(field), "[", i, "]")));
    keys.push_back(key);
  }
  return keys;
}

LeafOccupant OccupantOf(const VerifiedCredential& credential) {
  return LeafOccupant{credential.member_id, credential.signing_key, credential.hash};
}

}  // namespace

absl::Status ValidateGroupId(const std::string& group_id) {
  if (group_id.empty() || group_id.size() > kMaxGroupIdSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("group_id must be 1 to ", kMaxGroupIdSize, " bytes, got ", group_id.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<PublicGroup> PublicGroup::FromSetup(
    std::string_view tenant_id, const v1::Setup& setup,
    absl::Span<const Ed25519PublicKey> trusted_tenant_keys) {
  ART_RETURN_IF_ERROR(ValidateGroupId(setup.group_id()));
  const size_t member_count = setup.members_size();
  if (member_count == 0 || member_count > kMaxLeaves) {
    return absl::InvalidArgumentError(
        absl::StrCat("setup.members must hold 1 to ", kMaxLeaves, " members, got ", member_count));
  }
  const uint32_t n = static_cast<uint32_t>(member_count);
  if (static_cast<uint32_t>(setup.node_public_keys_size()) != NodeWidth(n)) {
    return absl::InvalidArgumentError(absl::StrCat("setup.node_public_keys must hold ", NodeWidth(n),
                                                   " keys for ", n, " members, got ",
                                                   setup.node_public_keys_size()));
  }
  ART_RETURN_IF_ERROR(ParseX25519PublicKey(setup.setup_public_key(), "setup.setup_public_key").status());
  ART_RETURN_IF_ERROR(FixedBytes<kSha256Size>(setup.tree_hash(), "setup.tree_hash").status());
  ART_RETURN_IF_ERROR(FixedBytes<kEd25519SignatureSize>(setup.signature(), "setup.signature").status());
  ART_RETURN_IF_ERROR(
      FixedBytes<kSha256Size>(setup.confirmation_tag(), "setup.confirmation_tag").status());

  // Credential checks are independent signature verifications: spread them over the cores.
  std::vector<LeafOccupant> occupants(n);
  ART_RETURN_IF_ERROR(ParallelFor(n, 0, [&](size_t begin, size_t end) -> absl::Status {
    for (size_t leaf = begin; leaf < end; ++leaf) {
      ART_ASSIGN_OR_RETURN(VerifiedCredential verified,
                           VerifyCredential(setup.members(leaf).credential(), tenant_id,
                                            trusted_tenant_keys));
      occupants[leaf] = OccupantOf(verified);
    }
    return absl::OkStatus();
  }));
  std::set<std::string_view> member_ids;
  for (const LeafOccupant& occupant : occupants) {
    if (!member_ids.insert(occupant.member_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("setup.members lists member \"", occupant.member_id, "\" twice"));
    }
  }
  std::vector<X25519PublicKey> node_keys;
  node_keys.reserve(NodeWidth(n));
  for (int node = 0; node < setup.node_public_keys_size(); ++node) {
    ART_ASSIGN_OR_RETURN(X25519PublicKey key,
                         ParseX25519PublicKey(setup.node_public_keys(node),
                                              absl::StrCat("setup.node_public_keys[", node, "]")));
    node_keys.push_back(key);
  }

  const Ed25519PublicKey creator_key = occupants[0].signing_key;
  absl::Status signature = VerifyWithLabel(creator_key, "setup", EncodeSetupContent(tenant_id, setup),
                                           AsBytes(setup.signature()));
  if (!signature.ok()) {
    return absl::PermissionDeniedError("setup.signature does not verify under the creator's key");
  }

  // Every leaf but the creator's was keyed by the creator.
  std::vector<LeafIndex> keyed_by(n, 0);
  keyed_by[0] = kNoLeaf;
  PublicGroup group;
  ART_ASSIGN_OR_RETURN(group.tree_,
                       PublicTree::Create(std::move(occupants), std::move(node_keys), std::move(keyed_by)));
  if (ToField(group.tree_.tree_hash()) != setup.tree_hash()) {
    return absl::InvalidArgumentError("setup.tree_hash does not match the tree it describes");
  }
  group.header_.tenant_id = std::string(tenant_id);
  group.header_.group_id = Bytes(setup.group_id().begin(), setup.group_id().end());
  group.header_.epoch = 0;
  group.header_.interim_transcript_hash = SetupInterimTranscriptHash(tenant_id, setup);
  return group;
}

PublicGroup PublicGroup::FromLoadedState(GroupHeader header, PublicTree tree) {
  PublicGroup group;
  group.header_ = std::move(header);
  group.tree_ = std::move(tree);
  return group;
}

absl::StatusOr<PublicGroup> PublicGroup::FromProto(
    const v1::PublicGroupState& state, std::string_view expected_tenant_id,
    absl::Span<const Ed25519PublicKey> trusted_tenant_keys) {
  if (state.tenant_id() != expected_tenant_id) {
    return absl::InvalidArgumentError("public_group_state.tenant_id is not this member's tenant");
  }
  ART_RETURN_IF_ERROR(ValidateGroupId(state.group_id()));
  const size_t n = state.leaves_size();
  if (n == 0 || n > kMaxLeaves) {
    return absl::InvalidArgumentError("public_group_state.leaves must hold 1 to 65536 leaves");
  }
  if (static_cast<size_t>(state.parent_public_keys_size()) != n - 1) {
    return absl::InvalidArgumentError(absl::StrCat("public_group_state.parent_public_keys must hold ",
                                                   n - 1, " keys, got ",
                                                   state.parent_public_keys_size()));
  }
  std::vector<std::optional<LeafOccupant>> occupants(n);
  std::vector<std::optional<X25519PublicKey>> keys(NodeWidth(static_cast<uint32_t>(n)));
  std::vector<LeafIndex> keyed_by(n, kNoLeaf);
  ART_RETURN_IF_ERROR(ParallelFor(n, 0, [&](size_t begin, size_t end) -> absl::Status {
    for (size_t leaf = begin; leaf < end; ++leaf) {
      const v1::TreeLeaf& tree_leaf = state.leaves(leaf);
      if (!tree_leaf.has_credential()) continue;
      ART_ASSIGN_OR_RETURN(VerifiedCredential verified,
                           VerifyCredential(tree_leaf.credential(), expected_tenant_id,
                                            trusted_tenant_keys));
      occupants[leaf] = OccupantOf(verified);
    }
    return absl::OkStatus();
  }));
  std::set<std::string_view> member_ids;
  for (size_t leaf = 0; leaf < n; ++leaf) {
    const v1::TreeLeaf& tree_leaf = state.leaves(leaf);
    if (occupants[leaf].has_value() && !member_ids.insert(occupants[leaf]->member_id).second) {
      return absl::InvalidArgumentError(absl::StrCat("public_group_state lists member \"",
                                                     occupants[leaf]->member_id, "\" twice"));
    }
    if (!tree_leaf.public_key().empty()) {
      ART_ASSIGN_OR_RETURN(keys[2 * leaf],
                           ParseX25519PublicKey(tree_leaf.public_key(),
                                                absl::StrCat("public_group_state.leaves[", leaf, "].public_key")));
    }
    if (tree_leaf.keyed_by() > n) {
      return absl::InvalidArgumentError(absl::StrCat("public_group_state.leaves[", leaf,
                                                     "].keyed_by is out of range"));
    }
    keyed_by[leaf] = tree_leaf.keyed_by() == 0 ? kNoLeaf : tree_leaf.keyed_by() - 1;
  }
  for (int parent = 0; parent < state.parent_public_keys_size(); ++parent) {
    if (state.parent_public_keys(parent).empty()) continue;
    ART_ASSIGN_OR_RETURN(keys[2 * parent + 1],
                         ParseX25519PublicKey(state.parent_public_keys(parent),
                                              absl::StrCat("public_group_state.parent_public_keys[", parent, "]")));
  }
  PublicGroup group;
  ART_ASSIGN_OR_RETURN(group.tree_,
                       PublicTree::Load(std::move(occupants), std::move(keys), std::move(keyed_by)));
  if (ToField(group.tree_.tree_hash()) != state.tree_hash()) {
    return absl::InvalidArgumentError("public_group_state.tree_hash does not match its tree");
  }
  ART_ASSIGN_OR_RETURN(group.header_.interim_transcript_hash,
                       FixedBytes<kSha256Size>(state.interim_transcript_hash(),
                                               "public_group_state.interim_transcript_hash"));
  group.header_.tenant_id = state.tenant_id();
  group.header_.group_id = Bytes(state.group_id().begin(), state.group_id().end());
  group.header_.epoch = state.epoch();
  return group;
}

v1::PublicGroupState PublicGroup::ToProto(
    absl::FunctionRef<const v1::Credential*(LeafIndex)> credential_of) const {
  v1::PublicGroupState state;
  state.set_tenant_id(header_.tenant_id);
  state.set_group_id(std::string(header_.group_id.begin(), header_.group_id.end()));
  state.set_epoch(header_.epoch);
  for (LeafIndex leaf = 0; leaf < tree_.leaf_count(); ++leaf) {
    v1::TreeLeaf* tree_leaf = state.add_leaves();
    if (tree_.occupant(leaf) != nullptr) {
      if (const v1::Credential* credential = credential_of(leaf)) {
        *tree_leaf->mutable_credential() = *credential;
      }
    }
    if (const X25519PublicKey* key = tree_.key(LeafToNode(leaf))) tree_leaf->set_public_key(ToField(*key));
    const LeafIndex keyed_by = tree_.keyed_by(leaf);
    tree_leaf->set_keyed_by(keyed_by == kNoLeaf ? 0 : keyed_by + 1);
  }
  for (NodeIndex node = 1; node < NodeWidth(tree_.leaf_count()); node += 2) {
    const X25519PublicKey* key = tree_.key(node);
    state.add_parent_public_keys(key != nullptr ? ToField(*key) : std::string());
  }
  state.set_interim_transcript_hash(ToField(header_.interim_transcript_hash));
  state.set_tree_hash(ToField(tree_.tree_hash()));
  return state;
}

namespace {

template <typename Tree>
absl::StatusOr<StagedPublicCommit> StageCommitChecks(
    const GroupHeader& header, const Tree& tree, const v1::Commit& commit,
    absl::Span<const Ed25519PublicKey> trusted_tenant_keys) {
  const Bytes& group_id_ = header.group_id;
  const uint64_t epoch_ = header.epoch;
  const std::string& tenant_id_ = header.tenant_id;
  const Sha256Digest& interim_transcript_hash_ = header.interim_transcript_hash;
  if (commit.group_id().size() != group_id_.size() ||
      !std::equal(group_id_.begin(), group_id_.end(), commit.group_id().begin())) {
    return absl::InvalidArgumentError("commit.group_id is not this group's id");
  }
  if (commit.epoch() != epoch_) {
    return absl::FailedPreconditionError(absl::StrCat("commit.epoch ", commit.epoch(),
                                                      " is not the group's current epoch ", epoch_));
  }
  if (epoch_ >= kMaxEpoch) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the group has reached its last epoch ", epoch_, "; re-create it"));
  }
  const LeafIndex signer = commit.signer_leaf();
  const LeafOccupant* signer_occupant = tree.occupant(signer);
  if (signer_occupant == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("commit.signer_leaf ", signer,
                                                   " is not an occupied leaf of this group"));
  }
  ART_RETURN_IF_ERROR(FixedBytes<kSha256Size>(commit.new_tree_hash(), "commit.new_tree_hash").status());
  ART_RETURN_IF_ERROR(
      FixedBytes<kEd25519SignatureSize>(commit.signature(), "commit.signature").status());
  ART_RETURN_IF_ERROR(
      FixedBytes<kSha256Size>(commit.confirmation_tag(), "commit.confirmation_tag").status());
  Bytes content = EncodeCommitContent(tenant_id_, commit, tree.tree_hash(), interim_transcript_hash_);
  if (!VerifyWithLabel(signer_occupant->signing_key, "commit", content, AsBytes(commit.signature()))
           .ok()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "commit.signature does not verify under the key of the member at leaf ", signer));
  }

  StagedPublicCommit staged;
  staged.signer_leaf = signer;
  std::optional<LeafOccupant> occupant;
  LeafIndex keyed_by = kNoLeaf;
  switch (commit.body_case()) {
    case v1::Commit::kUpdate: {
      staged.type = CommitType::kUpdate;
      staged.path_leaf = signer;
      occupant = *signer_occupant;
      ART_ASSIGN_OR_RETURN(staged.path_keys, ParsePathKeys(commit.update().path(), "commit.update.path"));
      break;
    }
    case v1::Commit::kAdd: {
      const v1::AddBody& add = commit.add();
      staged.type = CommitType::kAdd;
      ART_ASSIGN_OR_RETURN(VerifiedCredential added,
                           VerifyCredential(add.credential(), tenant_id_, trusted_tenant_keys));
      if (tree.FindMember(added.member_id) != kNoLeaf) {
        return absl::AlreadyExistsError(
            absl::StrCat("member \"", added.member_id, "\" is already in the group"));
      }
      const LeafIndex blank = tree.LeftmostBlankLeaf();
      const LeafIndex expected_leaf = blank != kNoLeaf ? blank : tree.leaf_count();
      if (add.new_leaf() != expected_leaf) {
        return absl::InvalidArgumentError(absl::StrCat("commit.add.new_leaf must be ", expected_leaf,
                                                       " (the leftmost blank leaf, else the next one), got ",
                                                       add.new_leaf()));
      }
      if (expected_leaf >= kMaxLeaves) {
        return absl::ResourceExhaustedError(
            absl::StrCat("the group is full: at most ", kMaxLeaves, " leaves"));
      }
      ART_RETURN_IF_ERROR(
          ParseX25519PublicKey(add.ephemeral_public_key(), "commit.add.ephemeral_public_key").status());
      staged.path_leaf = expected_leaf;
      occupant = OccupantOf(added);
      keyed_by = signer;
      staged.added = std::move(added);
      ART_ASSIGN_OR_RETURN(staged.path_keys, ParsePathKeys(add.path(), "commit.add.path"));
      break;
    }
    case v1::Commit::kRemove: {
      const v1::RemoveBody& remove = commit.remove();
      staged.type = CommitType::kRemove;
      const LeafIndex removed = remove.removed_leaf();
      const LeafOccupant* removed_occupant = tree.occupant(removed);
      if (removed_occupant == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("commit.remove.removed_leaf ", removed,
                                                       " is not an occupied leaf"));
      }
      if (removed == signer) {
        return absl::InvalidArgumentError(
            "commit.remove.removed_leaf is the signer's own leaf: removing oneself is refused "
            "(ask another member to commit the removal)");
      }
      if (remove.removed_credential_hash() != ToField(removed_occupant->credential_hash)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "commit.remove.removed_credential_hash does not match the member at leaf ", removed));
      }
      staged.path_leaf = removed;
      staged.removed = *removed_occupant;
      keyed_by = signer;
      ART_ASSIGN_OR_RETURN(staged.path_keys, ParsePathKeys(remove.path(), "commit.remove.path"));
      break;
    }
    case v1::Commit::BODY_NOT_SET:
      return absl::InvalidArgumentError("commit has no body (update, add or remove)");
  }

  ART_ASSIGN_OR_RETURN(staged.tree_change, StagePathOn(tree, staged.path_leaf, staged.path_keys,
                                                       std::move(occupant), keyed_by));
  if (ToField(staged.tree_change.tree_hash) != commit.new_tree_hash()) {
    return absl::InvalidArgumentError(
        "commit.new_tree_hash does not match the tree after applying the commit");
  }
  staged.commit_without_tag =
      EncodeCommitWithoutTag(tenant_id_, commit, tree.tree_hash(), interim_transcript_hash_);
  staged.confirmed_transcript_hash =
      ConfirmedTranscriptHash(interim_transcript_hash_, staged.commit_without_tag);
  staged.interim_transcript_hash = InterimTranscriptHash(staged.confirmed_transcript_hash,
                                                         AsBytes(commit.confirmation_tag()));
  return staged;
}

}  // namespace

template <typename Tree>
absl::StatusOr<StagedPublicCommit> StageCommitOn(const GroupHeader& header, const Tree& tree,
                                                 const v1::Commit& commit,
                                                 absl::Span<const Ed25519PublicKey> trusted_tenant_keys) {
  absl::StatusOr<StagedPublicCommit> staged =
      StageCommitChecks(header, tree, commit, trusted_tenant_keys);
  // A verdict reached on data that was never loaded is no verdict: report the loading bug instead.
  ART_RETURN_IF_ERROR(tree.MissingNodes());
  return staged;
}

template absl::StatusOr<StagedPublicCommit> StageCommitOn<PublicTree>(
    const GroupHeader&, const PublicTree&, const v1::Commit&, absl::Span<const Ed25519PublicKey>);
template absl::StatusOr<StagedPublicCommit> StageCommitOn<PartialTree>(
    const GroupHeader&, const PartialTree&, const v1::Commit&, absl::Span<const Ed25519PublicKey>);

void PublicGroup::Apply(StagedPublicCommit staged) {
  tree_.Apply(std::move(staged.tree_change));
  header_.interim_transcript_hash = staged.interim_transcript_hash;
  ++header_.epoch;
}

Sha256Digest SetupInterimTranscriptHash(std::string_view tenant_id, const v1::Setup& setup) {
  const Sha256Digest zero{};
  const Sha256Digest confirmed = ConfirmedTranscriptHash(zero, EncodeSetupWithoutTag(tenant_id, setup));
  return InterimTranscriptHash(confirmed, AsBytes(setup.confirmation_tag()));
}

}  // namespace art
