#include "art/protocol/member_group.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "art/base/parallel.h"
#include "art/base/status_macros.h"
#include "art/crypto/aead.h"
#include "art/crypto/random.h"
#include "art/encoding/encoder.h"
#include "art/protocol/encodings.h"
#include "art/protocol/key_agreement.h"
#include "art/suite/labeled.h"
#include "art/wire/fields.h"

namespace art {
namespace {

constexpr size_t kNonceSize = 12;

absl::Status NotActive() {
  return absl::FailedPreconditionError(
      "this member has been removed from the group; it can no longer read or write it");
}

// Welcome key and nonce from the add's key agreement, bound to the header.
absl::StatusOr<MessageKey> WelcomeKey(const SecretBytes& agreement_key, ByteSpan header) {
  MessageKey key;
  ART_ASSIGN_OR_RETURN(key.key, ExpandWithLabel(agreement_key.span(), "welcome", header, kSecretSize));
  ART_ASSIGN_OR_RETURN(key.nonce,
                       ExpandWithLabel(agreement_key.span(), "welcome nonce", header, kNonceSize));
  return key;
}

// The path keys field of whichever body |commit| carries.
v1::PathKeys* MutablePath(v1::Commit& commit) {
  switch (commit.body_case()) {
    case v1::Commit::kAdd:
      return commit.mutable_add()->mutable_path();
    case v1::Commit::kRemove:
      return commit.mutable_remove()->mutable_path();
    default:
      return commit.mutable_update()->mutable_path();
  }
}

// The index of |node| in a path that starts at |start| (the start itself is index 0).
size_t PathPosition(NodeIndex start, NodeIndex node, uint32_t leaf_count) {
  if (node == start) return 0;
  const std::vector<NodeIndex> path = DirectPath(start, leaf_count);
  return 1 + static_cast<size_t>(std::find(path.begin(), path.end(), node) - path.begin());
}

// encode(AAD fields, AAD, content): what a sender signs inside an application message.
Bytes MessageSignatureContent(ByteSpan aad, ByteSpan content) {
  Encoder encoder;
  encoder.Raw(aad).Vector(aad).Vector(content);
  return encoder.TakeBytes();
}


}  // namespace

const X25519PrivateKey* MemberGroup::OwnKey(NodeIndex node) const {
  for (const auto& [index, key] : path_keys_) {
    if (index == node) return &key;
  }
  return nullptr;
}

absl::StatusOr<MemberGroup::Created> MemberGroup::Create(const GroupConfig& config,
                                                         const MemberIdentity& creator,
                                                         std::string group_id,
                                                         absl::Span<const v1::PrekeyBundle> bundles) {
  ART_RETURN_IF_ERROR(ValidateGroupId(group_id));
  const size_t member_count = bundles.size() + 1;
  if (member_count > kMaxLeaves) {
    return absl::InvalidArgumentError(
        absl::StrCat("a group has at most ", kMaxLeaves, " members, got ", member_count));
  }
  const uint32_t n = static_cast<uint32_t>(member_count);
  ART_ASSIGN_OR_RETURN(VerifiedCredential creator_credential,
                       VerifyCredential(creator.credential, config.tenant_id,
                                        config.trusted_tenant_keys));
  ART_ASSIGN_OR_RETURN(X25519PrivateKey setup_key, X25519PrivateKey::Generate());
  const Bytes group_id_bytes(group_id.begin(), group_id.end());
  const uint64_t now = config.unix_seconds ? config.unix_seconds() : 0;

  // Leaves: the creator's is fresh; member j's comes from the key agreement with its bundle.
  std::vector<std::optional<X25519PrivateKey>> node_keys(NodeWidth(n));
  ART_ASSIGN_OR_RETURN(node_keys[0], X25519PrivateKey::Generate());
  std::vector<VerifiedBundle> verified(n);
  ART_RETURN_IF_ERROR(ParallelFor(bundles.size(), config.setup_threads,
                                  [&](size_t begin, size_t end) -> absl::Status {
    for (size_t i = begin; i < end; ++i) {
      const uint32_t leaf = static_cast<uint32_t>(i + 1);
      absl::StatusOr<VerifiedBundle> bundle = VerifyPrekeyBundle(
          bundles[i], config.tenant_id, config.trusted_tenant_keys, now);
      if (!bundle.ok()) {
        return absl::Status(bundle.status().code(),
                            absl::StrCat("bundles[", i, "]: ", bundle.status().message()));
      }
      ART_ASSIGN_OR_RETURN(SecretBytes agreement,
                           SenderKeyAgreement(creator.dh_key, setup_key,
                                              bundle->credential.dh_key, bundle->signed_prekey,
                                              bundle->one_time_prekey_id ? &bundle->one_time_prekey
                                                                         : nullptr));
      LeafContext context{config.tenant_id, group_id_bytes, leaf, creator_credential.hash,
                          bundle->credential.hash, setup_key.public_key(), bundle->signed_prekey_id,
                          bundle->one_time_prekey_id};
      ART_ASSIGN_OR_RETURN(node_keys[LeafToNode(leaf)], DeriveLeafKey(agreement, context));
      verified[leaf] = *std::move(bundle);
    }
    return absl::OkStatus();
  }));
  std::set<std::string_view> member_ids = {creator_credential.member_id};
  for (uint32_t leaf = 1; leaf < n; ++leaf) {
    if (!member_ids.insert(verified[leaf].credential.member_id).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "member \"", verified[leaf].credential.member_id, "\" is listed twice (or is the creator)"));
    }
  }

  // Parents level by level, each level in parallel: every node of a new group has a key.
  const NodeIndex width = NodeWidth(n);
  for (uint32_t level = 1; (1u << level) <= width; ++level) {
    const NodeIndex first = (1u << level) - 1;
    const NodeIndex step = 1u << (level + 1);
    const size_t count = (width - first + step - 1) / step;
    ART_RETURN_IF_ERROR(ParallelFor(count, config.setup_threads,
                                    [&](size_t begin, size_t end) -> absl::Status {
      for (size_t i = begin; i < end; ++i) {
        const NodeIndex node = first + static_cast<NodeIndex>(i) * step;
        ART_ASSIGN_OR_RETURN(node_keys[node],
                             DeriveParentKey(*node_keys[Left(node)],
                                             node_keys[Right(node, n)]->public_key()));
      }
      return absl::OkStatus();
    }));
  }

  v1::Setup setup;
  setup.set_group_id(group_id);
  std::vector<LeafOccupant> occupants;
  occupants.reserve(n);
  for (uint32_t leaf = 0; leaf < n; ++leaf) {
    v1::SetupMember* member = setup.add_members();
    if (leaf == 0) {
      *member->mutable_credential() = creator.credential;
      occupants.push_back(LeafOccupant{creator_credential.member_id, creator_credential.signing_key,
                                       creator_credential.hash});
      continue;
    }
    *member->mutable_credential() = bundles[leaf - 1].credential();
    member->set_signed_prekey_id(verified[leaf].signed_prekey_id);
    if (verified[leaf].one_time_prekey_id.has_value()) {
      member->set_has_one_time_prekey(true);
      member->set_one_time_prekey_id(*verified[leaf].one_time_prekey_id);
    }
    const VerifiedCredential& credential = verified[leaf].credential;
    occupants.push_back(LeafOccupant{credential.member_id, credential.signing_key, credential.hash});
  }
  setup.set_setup_public_key(ToField(setup_key.public_key()));
  std::vector<X25519PublicKey> public_keys;
  public_keys.reserve(width);
  for (const auto& key : node_keys) {
    public_keys.push_back(key->public_key());
    setup.add_node_public_keys(ToField(key->public_key()));
  }
  std::vector<LeafIndex> keyed_by(n, 0);
  keyed_by[0] = kNoLeaf;
  ART_ASSIGN_OR_RETURN(PublicTree tree,
                       PublicTree::Create(std::move(occupants), std::move(public_keys), std::move(keyed_by)));
  setup.set_tree_hash(ToField(tree.tree_hash()));
  ART_ASSIGN_OR_RETURN(Ed25519Signature signature,
                       SignWithLabel(creator.signing_key, "setup",
                                     EncodeSetupContent(config.tenant_id, setup)));
  setup.set_signature(ToField(signature));

  // Epoch 0 of the key schedule.
  const Sha256Digest zero{};
  const Sha256Digest confirmed =
      ConfirmedTranscriptHash(zero, EncodeSetupWithoutTag(config.tenant_id, setup));
  ART_ASSIGN_OR_RETURN(SecretBytes tree_key, DeriveTreeKey(node_keys[Root(n)]->secret()));
  EpochContext context{config.tenant_id, group_id_bytes, 0, tree.tree_hash(), confirmed};
  ART_ASSIGN_OR_RETURN(EpochSecrets secrets, DeriveEpochSecrets(ZeroSecret(), tree_key, context));
  SecretBytes tag = ConfirmationTag(secrets.confirmation_key, confirmed);
  setup.set_confirmation_tag(std::string(tag.data(), tag.data() + tag.size()));

  MemberGroup group;
  group.config_ = config;
  group.public_group_ = PublicGroup::FromLoadedState(
      GroupHeader{config.tenant_id, group_id_bytes, 0, InterimTranscriptHash(confirmed, tag.span())},
      std::move(tree));
  group.own_leaf_ = 0;
  group.signing_key_ = creator.signing_key;
  group.identity_dh_key_ = creator.dh_key;
  group.own_credential_ = creator.credential;
  // Keep only the creator's own path; every other leaf and node secret is erased with |node_keys|.
  group.path_keys_.emplace_back(0, *node_keys[0]);
  for (NodeIndex node : DirectPath(0, n)) group.path_keys_.emplace_back(node, *node_keys[node]);
  group.message_keys_ = EpochMessageKeys(n, std::move(secrets.application_secret));
  group.secrets_ = std::move(secrets);
  return Created{std::move(group), std::move(setup)};
}

namespace {

// This member's leaf in a public tree, checked against its own credential.
absl::StatusOr<LeafIndex> FindOwnLeaf(const PublicTree& tree, const MemberIdentity& identity) {
  const LeafIndex leaf = tree.FindMember(identity.credential.member_id());
  if (leaf == kNoLeaf) {
    return absl::InvalidArgumentError(absl::StrCat("member \"", identity.credential.member_id(),
                                                   "\" is not in the group it was sent"));
  }
  if (tree.occupant(leaf)->credential_hash != CredentialHash(identity.credential)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf ", leaf, " carries a credential for \"", identity.credential.member_id(),
        "\" that is not this member's own"));
  }
  return leaf;
}

// The prekey secrets a sender chose for this member, or FAILED_PRECONDITION naming the missing one.
struct ChosenPrekeys {
  const X25519PrivateKey* signed_prekey = nullptr;
  const X25519PrivateKey* one_time_prekey = nullptr;
};

absl::StatusOr<ChosenPrekeys> FindPrekeys(const PrekeySecrets& prekeys, uint32_t signed_prekey_id,
                                          bool has_one_time_prekey, uint32_t one_time_prekey_id) {
  ChosenPrekeys chosen;
  auto signed_prekey = prekeys.signed_prekeys.find(signed_prekey_id);
  if (signed_prekey == prekeys.signed_prekeys.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signed prekey ", signed_prekey_id, " is not one of this member's (or was deleted)"));
  }
  chosen.signed_prekey = &signed_prekey->second;
  if (has_one_time_prekey) {
    auto one_time = prekeys.one_time_prekeys.find(one_time_prekey_id);
    if (one_time == prekeys.one_time_prekeys.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "one-time prekey ", one_time_prekey_id, " is not one of this member's or was already consumed"));
    }
    chosen.one_time_prekey = &one_time->second;
  }
  return chosen;
}

// Checks derived key pairs against the public keys a tree holds for the same nodes.
absl::Status CheckDerivedKeys(const PublicTree& tree, absl::Span<const NodeKey> derived) {
  for (const auto& [node, key] : derived) {
    const X25519PublicKey* expected = tree.key(node);
    if (expected == nullptr || *expected != key.public_key()) {
      return absl::InvalidArgumentError(absl::StrCat(
          IsLeaf(node) ? "own leaf key" : "path key", " at node ", node,
          " does not match the key this member derives"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTag(const SecretBytes& expected, const std::string& received) {
  if (!ConstantTimeEquals(expected.span(), AsBytes(received))) {
    return absl::PermissionDeniedError("confirmation tag mismatch: the commit does not lead to the epoch "
                                       "this member derives");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MemberGroup> MemberGroup::JoinFromSetup(const GroupConfig& config,
                                                       const MemberIdentity& identity,
                                                       PrekeySecrets* prekeys,
                                                       const v1::Setup& setup) {
  ART_ASSIGN_OR_RETURN(PublicGroup public_group,
                       PublicGroup::FromSetup(config.tenant_id, setup, config.trusted_tenant_keys));
  const PublicTree& tree = public_group.tree();
  ART_ASSIGN_OR_RETURN(LeafIndex own_leaf, FindOwnLeaf(tree, identity));
  if (own_leaf == 0) {
    return absl::InvalidArgumentError("this member created the group; it does not join its own setup");
  }
  const v1::SetupMember& entry = setup.members(own_leaf);
  ART_ASSIGN_OR_RETURN(ChosenPrekeys chosen,
                       FindPrekeys(*prekeys, entry.signed_prekey_id(), entry.has_one_time_prekey(),
                                   entry.one_time_prekey_id()));
  ART_ASSIGN_OR_RETURN(X25519PublicKey creator_dh_key,
                       ParseX25519PublicKey(setup.members(0).credential().identity_dh_key(),
                                            "setup.members[0].credential.identity_dh_key"));
  ART_ASSIGN_OR_RETURN(X25519PublicKey setup_key,
                       ParseX25519PublicKey(setup.setup_public_key(), "setup.setup_public_key"));
  ART_ASSIGN_OR_RETURN(SecretBytes agreement,
                       ReceiverKeyAgreement(identity.dh_key, *chosen.signed_prekey,
                                            chosen.one_time_prekey, creator_dh_key, setup_key));
  std::optional<uint32_t> one_time_id;
  if (entry.has_one_time_prekey()) one_time_id = entry.one_time_prekey_id();
  LeafContext context{config.tenant_id, public_group.group_id(), own_leaf,
                      tree.occupant(0)->credential_hash, tree.occupant(own_leaf)->credential_hash,
                      setup_key, entry.signed_prekey_id(), one_time_id};
  ART_ASSIGN_OR_RETURN(X25519PrivateKey leaf_key, DeriveLeafKey(agreement, context));

  const Sha256Digest zero{};
  const Sha256Digest confirmed =
      ConfirmedTranscriptHash(zero, EncodeSetupWithoutTag(config.tenant_id, setup));
  return FinishJoin(config, identity, prekeys, std::move(public_group), own_leaf, leaf_key, ZeroSecret(),
                    confirmed, setup.confirmation_tag(), one_time_id);
}

absl::StatusOr<MemberGroup> MemberGroup::FinishJoin(const GroupConfig& config, const MemberIdentity& identity,
                                                    PrekeySecrets* prekeys, PublicGroup public_group,
                                                    LeafIndex own_leaf, const X25519PrivateKey& leaf_key,
                                                    const SecretBytes& previous_init,
                                                    const Sha256Digest& confirmed, const std::string& tag,
                                                    std::optional<uint32_t> one_time_id) {
  const PublicTree& tree = public_group.tree();
  MemberGroup group;
  group.path_keys_.emplace_back(LeafToNode(own_leaf), leaf_key);
  ART_ASSIGN_OR_RETURN(std::vector<NodeKey> ancestors,
                       DeriveAncestors(tree, tree.leaf_count(), LeafToNode(own_leaf), leaf_key));
  for (auto& ancestor : ancestors) group.path_keys_.push_back(std::move(ancestor));
  ART_RETURN_IF_ERROR(CheckDerivedKeys(tree, group.path_keys_));

  ART_ASSIGN_OR_RETURN(SecretBytes tree_key, DeriveTreeKey(group.path_keys_.back().second.secret()));
  EpochContext epoch_context{config.tenant_id, public_group.group_id(), public_group.epoch(), tree.tree_hash(),
                             confirmed};
  ART_ASSIGN_OR_RETURN(EpochSecrets secrets, DeriveEpochSecrets(previous_init, tree_key, epoch_context));
  ART_RETURN_IF_ERROR(CheckTag(ConfirmationTag(secrets.confirmation_key, confirmed), tag));

  group.config_ = config;
  group.own_leaf_ = own_leaf;
  group.signing_key_ = identity.signing_key;
  group.identity_dh_key_ = identity.dh_key;
  group.own_credential_ = identity.credential;
  group.message_keys_ = EpochMessageKeys(tree.leaf_count(), std::move(secrets.application_secret));
  group.secrets_ = std::move(secrets);
  group.public_group_ = std::move(public_group);
  // Everything verified: the one-time prekey is now spent.
  if (one_time_id.has_value()) prekeys->one_time_prekeys.erase(*one_time_id);
  return group;
}

absl::StatusOr<EpochSecrets> MemberGroup::NextEpochSecrets(const StagedPublicCommit& staged,
                                                           const X25519PrivateKey& root_key) const {
  ART_ASSIGN_OR_RETURN(SecretBytes tree_key, DeriveTreeKey(root_key.secret()));
  EpochContext context{config_.tenant_id, public_group_.group_id(), public_group_.epoch() + 1,
                       staged.tree_change.tree_hash, staged.confirmed_transcript_hash};
  return DeriveEpochSecrets(secrets_.init_secret, tree_key, context);
}

absl::StatusOr<PendingCommit> MemberGroup::FinishCommit(v1::Commit commit, LeafIndex path_leaf,
                                                        const X25519PrivateKey& path_leaf_key) const {
  const PublicTree& tree = public_group_.tree();
  const uint32_t leaf_count = std::max(tree.leaf_count(), path_leaf + 1);
  const NodeIndex start = LeafToNode(path_leaf);
  ART_ASSIGN_OR_RETURN(std::vector<NodeKey> ancestors,
                       DeriveAncestors(tree, leaf_count, start, path_leaf_key));
  commit.set_group_id(std::string(public_group_.group_id().begin(), public_group_.group_id().end()));
  commit.set_epoch(public_group_.epoch());
  commit.set_signer_leaf(own_leaf_);
  v1::PathKeys* path = MutablePath(commit);
  path->clear_public_keys();
  std::vector<X25519PublicKey> path_keys = {path_leaf_key.public_key()};
  for (const auto& [node, key] : ancestors) path_keys.push_back(key.public_key());
  for (const X25519PublicKey& key : path_keys) path->add_public_keys(ToField(key));

  // The tree hash after the change, which the signature covers.
  std::optional<LeafOccupant> occupant;
  LeafIndex keyed_by = own_leaf_;
  if (commit.has_update()) {
    occupant = *tree.occupant(own_leaf_);
    keyed_by = kNoLeaf;
  } else if (commit.has_add()) {
    ART_ASSIGN_OR_RETURN(VerifiedCredential added,
                         VerifyCredential(commit.add().credential(), config_.tenant_id,
                                          config_.trusted_tenant_keys));
    occupant = LeafOccupant{added.member_id, added.signing_key, added.hash};
  }
  ART_ASSIGN_OR_RETURN(TreeChange change, tree.StagePath(path_leaf, path_keys, std::move(occupant), keyed_by));
  commit.set_new_tree_hash(ToField(change.tree_hash));
  ART_ASSIGN_OR_RETURN(Ed25519Signature signature,
                       SignWithLabel(*signing_key_, "commit",
                                     EncodeCommitContent(config_.tenant_id, commit, tree.tree_hash(),
                                                         public_group_.interim_transcript_hash())));
  commit.set_signature(ToField(signature));
  // The tag is not part of what is signed or of the confirmed transcript: stage with a placeholder,
  // then fill in the real tag and the interim hash that depends on it.
  commit.set_confirmation_tag(std::string(kSha256Size, '\0'));
  // The same public checks the service and every member will run: a commit this member could not
  // accept is never sent.
  ART_ASSIGN_OR_RETURN(StagedPublicCommit staged,
                       public_group_.StageCommit(commit, config_.trusted_tenant_keys));
  const X25519PrivateKey& root_key = ancestors.empty() ? path_leaf_key : ancestors.back().second;
  ART_ASSIGN_OR_RETURN(EpochSecrets secrets, NextEpochSecrets(staged, root_key));
  SecretBytes tag = ConfirmationTag(secrets.confirmation_key, staged.confirmed_transcript_hash);
  commit.set_confirmation_tag(std::string(tag.data(), tag.data() + tag.size()));
  staged.interim_transcript_hash = InterimTranscriptHash(staged.confirmed_transcript_hash, tag.span());

  PendingCommit pending;
  pending.transition.own_path_keys = OwnPathKeys(path_leaf, path_leaf_key, std::move(ancestors));
  pending.path_leaf_secret = path_leaf_key.secret();
  pending.transition.public_commit = std::move(staged);
  pending.transition.secrets = std::move(secrets);
  pending.commit = std::move(commit);
  return pending;
}

std::vector<NodeKey> MemberGroup::OwnPathKeys(LeafIndex path_leaf, const X25519PrivateKey& path_leaf_key,
                                              std::vector<NodeKey> ancestors) const {
  // Keep the new keys of this member's own direct path only; the rest (the path leaf when it is not
  // this member's, and nodes off its path) are erased when |ancestors| goes away.
  std::vector<NodeKey> own_path;
  const NodeIndex own = LeafToNode(own_leaf_);
  if (path_leaf == own_leaf_) own_path.emplace_back(own, path_leaf_key);
  for (auto& [node, key] : ancestors) {
    if (InSubtree(own, node)) own_path.emplace_back(node, std::move(key));
  }
  return own_path;
}

absl::Status MemberGroup::RecoverOwnCommit(const v1::Commit& commit, ByteSpan path_leaf_secret) {
  if (!active_) return NotActive();
  ART_ASSIGN_OR_RETURN(StagedPublicCommit staged,
                       public_group_.StageCommit(commit, config_.trusted_tenant_keys));
  if (staged.signer_leaf != own_leaf_) {
    return absl::InvalidArgumentError("the commit to recover was not signed by this member");
  }
  ART_ASSIGN_OR_RETURN(X25519PrivateKey path_leaf_key, X25519PrivateKey::FromSecret(path_leaf_secret));
  const uint32_t leaf_count = staged.tree_change.new_leaf_count;
  ART_ASSIGN_OR_RETURN(std::vector<NodeKey> ancestors, DeriveAncestors(public_group_.tree(), leaf_count,
                                                                       LeafToNode(staged.path_leaf), path_leaf_key));
  if (staged.path_keys.size() != ancestors.size() + 1 || staged.path_keys[0] != path_leaf_key.public_key()) {
    return absl::InvalidArgumentError("the kept path secret is not the one this commit was made from");
  }
  for (size_t i = 0; i < ancestors.size(); ++i) {
    if (staged.path_keys[i + 1] != ancestors[i].second.public_key()) {
      return absl::InvalidArgumentError(absl::StrCat("path key at node ", ancestors[i].first,
                                                     " does not match the key this member derives"));
    }
  }
  EpochTransition transition;
  const X25519PrivateKey& root_key = ancestors.empty() ? path_leaf_key : ancestors.back().second;
  ART_ASSIGN_OR_RETURN(transition.secrets, NextEpochSecrets(staged, root_key));
  ART_RETURN_IF_ERROR(CheckTag(ConfirmationTag(transition.secrets.confirmation_key,
                                               staged.confirmed_transcript_hash),
                               commit.confirmation_tag()));
  transition.own_path_keys = OwnPathKeys(staged.path_leaf, path_leaf_key, std::move(ancestors));
  transition.public_commit = std::move(staged);
  ApplyTransition(std::move(transition));
  return absl::OkStatus();
}

absl::StatusOr<PendingCommit> MemberGroup::CreateUpdate() const {
  if (!active_) return NotActive();
  ART_ASSIGN_OR_RETURN(X25519PrivateKey leaf_key, X25519PrivateKey::Generate());
  v1::Commit commit;
  commit.mutable_update();
  return FinishCommit(std::move(commit), own_leaf_, leaf_key);
}

absl::StatusOr<PendingCommit> MemberGroup::CreateAdd(const v1::PrekeyBundle& bundle) const {
  if (!active_) return NotActive();
  const uint64_t now = config_.unix_seconds ? config_.unix_seconds() : 0;
  ART_ASSIGN_OR_RETURN(VerifiedBundle verified, VerifyPrekeyBundle(bundle, config_.tenant_id,
                                                                   config_.trusted_tenant_keys, now));
  const PublicTree& tree = public_group_.tree();
  if (tree.FindMember(verified.credential.member_id) != kNoLeaf) {
    return absl::AlreadyExistsError(
        absl::StrCat("member \"", verified.credential.member_id, "\" is already in the group"));
  }
  const LeafIndex blank = tree.LeftmostBlankLeaf();
  const LeafIndex new_leaf = blank != kNoLeaf ? blank : tree.leaf_count();
  if (new_leaf >= kMaxLeaves) {
    return absl::ResourceExhaustedError(absl::StrCat("the group is full: at most ", kMaxLeaves, " leaves"));
  }
  ART_ASSIGN_OR_RETURN(X25519PrivateKey ephemeral, X25519PrivateKey::Generate());
  const X25519PublicKey* one_time =
      verified.one_time_prekey_id.has_value() ? &verified.one_time_prekey : nullptr;
  ART_ASSIGN_OR_RETURN(SecretBytes agreement,
                       SenderKeyAgreement(*identity_dh_key_, ephemeral, verified.credential.dh_key,
                                          verified.signed_prekey, one_time));
  LeafContext context{config_.tenant_id, public_group_.group_id(), new_leaf,
                      tree.occupant(own_leaf_)->credential_hash, verified.credential.hash,
                      ephemeral.public_key(), verified.signed_prekey_id, verified.one_time_prekey_id};
  ART_ASSIGN_OR_RETURN(X25519PrivateKey leaf_key, DeriveLeafKey(agreement, context));

  v1::Commit commit;
  v1::AddBody* add = commit.mutable_add();
  *add->mutable_credential() = bundle.credential();
  add->set_signed_prekey_id(verified.signed_prekey_id);
  add->set_has_one_time_prekey(verified.one_time_prekey_id.has_value());
  add->set_one_time_prekey_id(verified.one_time_prekey_id.value_or(0));
  add->set_ephemeral_public_key(ToField(ephemeral.public_key()));
  add->set_new_leaf(new_leaf);
  ART_ASSIGN_OR_RETURN(PendingCommit pending, FinishCommit(std::move(commit), new_leaf, leaf_key));

  v1::Welcome welcome;
  welcome.set_tenant_id(config_.tenant_id);
  welcome.set_group_id(pending.commit.group_id());
  welcome.set_epoch(public_group_.epoch() + 1);
  welcome.set_adder_leaf(own_leaf_);
  welcome.set_new_leaf(new_leaf);
  welcome.set_ephemeral_public_key(ToField(ephemeral.public_key()));
  welcome.set_signed_prekey_id(verified.signed_prekey_id);
  welcome.set_has_one_time_prekey(verified.one_time_prekey_id.has_value());
  welcome.set_one_time_prekey_id(verified.one_time_prekey_id.value_or(0));
  welcome.set_commit_hash(ToField(CommitHash(config_.tenant_id, pending.commit, tree.tree_hash(),
                                             public_group_.interim_transcript_hash())));
  const Bytes header = EncodeWelcomeHeader(welcome);
  ART_ASSIGN_OR_RETURN(MessageKey welcome_key, WelcomeKey(agreement, header));
  // The body: init_e, and what the newcomer needs to check the commit's signature.
  Encoder body;
  body.Vector(secrets_.init_secret.span())
      .Raw(public_group_.interim_transcript_hash())
      .Raw(tree.tree_hash());
  SecretBytes plaintext = body.TakeSecret();
  ART_ASSIGN_OR_RETURN(Bytes ciphertext, Aes256GcmSeal(welcome_key.key.span(), welcome_key.nonce.span(),
                                                       header, plaintext.span()));
  welcome.set_ciphertext(std::string(ciphertext.begin(), ciphertext.end()));
  pending.welcome = std::move(welcome);
  return pending;
}

absl::StatusOr<PendingCommit> MemberGroup::CreateRemove(LeafIndex leaf) const {
  ART_ASSIGN_OR_RETURN(X25519PrivateKey fresh_key, X25519PrivateKey::Generate());
  return CreateRemoveWithKeyForTesting(leaf, fresh_key);
}

absl::StatusOr<PendingCommit> MemberGroup::CreateRemoveWithKeyForTesting(
    LeafIndex leaf, const X25519PrivateKey& fresh_key) const {
  if (!active_) return NotActive();
  const LeafOccupant* removed = public_group_.tree().occupant(leaf);
  if (removed == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("leaf ", leaf, " has no member to remove"));
  }
  if (leaf == own_leaf_) {
    return absl::InvalidArgumentError(
        "a member cannot remove itself: ask another member to commit the removal");
  }
  v1::Commit commit;
  commit.mutable_remove()->set_removed_leaf(leaf);
  commit.mutable_remove()->set_removed_credential_hash(ToField(removed->credential_hash));
  return FinishCommit(std::move(commit), leaf, fresh_key);
}

void MemberGroup::ApplyPendingCommit(PendingCommit pending) {
  ApplyTransition(std::move(pending.transition));
}

absl::Status MemberGroup::ProcessCommit(const v1::Commit& commit) {
  if (!active_) return NotActive();
  ART_ASSIGN_OR_RETURN(StagedPublicCommit staged,
                       public_group_.StageCommit(commit, config_.trusted_tenant_keys));
  if (staged.signer_leaf == own_leaf_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the commit for epoch ", commit.epoch(),
        " is signed for this member's own leaf: apply the pending commit this member made, or, if "
        "it made none, its identity key is compromised (stop using the group and report the commit)"));
  }
  EpochTransition transition;
  if (staged.type == CommitType::kRemove && staged.path_leaf == own_leaf_) {
    transition.removes_this_member = true;
    transition.public_commit = std::move(staged);
    ApplyTransition(std::move(transition));
    return absl::OkStatus();
  }
  const uint32_t leaf_count = staged.tree_change.new_leaf_count;
  const NodeIndex own = LeafToNode(own_leaf_);
  const NodeIndex start = LeafToNode(staged.path_leaf);
  const NodeIndex ancestor = CommonAncestor(own, start);
  const NodeIndex own_child = InSubtree(own, Left(ancestor)) ? Left(ancestor) : Right(ancestor, leaf_count);
  const NodeIndex path_child = own_child == Left(ancestor) ? Right(ancestor, leaf_count) : Left(ancestor);
  const X25519PrivateKey* own_child_key = OwnKey(own_child);
  if (own_child_key == nullptr) {
    return absl::InternalError(absl::StrCat("this member holds no key for its path node ", own_child));
  }
  const X25519PublicKey& path_child_key =
      staged.path_keys[PathPosition(start, path_child, leaf_count)];
  ART_ASSIGN_OR_RETURN(X25519PrivateKey ancestor_key, DeriveParentKey(*own_child_key, path_child_key));
  ART_ASSIGN_OR_RETURN(std::vector<NodeKey> above,
                       DeriveAncestors(public_group_.tree(), leaf_count, ancestor, ancestor_key));
  transition.own_path_keys.emplace_back(ancestor, std::move(ancestor_key));
  for (auto& node_key : above) transition.own_path_keys.push_back(std::move(node_key));
  // Every key from the common ancestor up must be the one the commit announced.
  for (const auto& [node, key] : transition.own_path_keys) {
    if (staged.path_keys[PathPosition(start, node, leaf_count)] != key.public_key()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "path key at node ", node, " does not match the key this member derives"));
    }
  }
  ART_ASSIGN_OR_RETURN(transition.secrets,
                       NextEpochSecrets(staged, transition.own_path_keys.back().second));
  ART_RETURN_IF_ERROR(CheckTag(ConfirmationTag(transition.secrets.confirmation_key,
                                               staged.confirmed_transcript_hash),
                               commit.confirmation_tag()));
  transition.public_commit = std::move(staged);
  ApplyTransition(std::move(transition));
  return absl::OkStatus();
}

void MemberGroup::ApplyTransition(EpochTransition transition) {
  const StagedPublicCommit& staged = transition.public_commit;
  previous_changed_leaf_ = staged.type == CommitType::kUpdate ? kNoLeaf : staged.path_leaf;
  previous_changed_occupant_.reset();
  if (staged.type != CommitType::kUpdate) {
    if (const LeafOccupant* old = public_group_.tree().occupant(staged.path_leaf)) {
      previous_changed_occupant_ = *old;
    }
  }
  const bool removed = transition.removes_this_member;
  public_group_.Apply(std::move(transition.public_commit));
  if (removed) {
    active_ = false;
    path_keys_.clear();
    secrets_ = EpochSecrets();
    message_keys_.Clear();
    previous_message_keys_.reset();
    signing_key_.reset();
    identity_dh_key_.reset();
    return;
  }
  // Own path: the new keys replace those nodes; the rest of the path keeps its keys. A grown tree may
  // have lengthened the path; its new nodes are among the new keys.
  const uint32_t leaf_count = public_group_.tree().leaf_count();
  const NodeIndex own = LeafToNode(own_leaf_);
  std::vector<NodeKey> path_keys;
  std::vector<NodeIndex> nodes = {own};
  for (NodeIndex node : DirectPath(own, leaf_count)) nodes.push_back(node);
  for (NodeIndex node : nodes) {
    auto fresh = std::find_if(transition.own_path_keys.begin(), transition.own_path_keys.end(),
                              [node](const NodeKey& key) { return key.first == node; });
    if (fresh != transition.own_path_keys.end()) {
      path_keys.emplace_back(node, std::move(fresh->second));
    } else if (const X25519PrivateKey* kept = OwnKey(node)) {
      path_keys.emplace_back(node, *kept);
    }
  }
  path_keys_ = std::move(path_keys);
  previous_message_keys_ = std::move(message_keys_);
  previous_expiry_ = config_.clock() + config_.previous_epoch_retention;
  secrets_ = std::move(transition.secrets);
  message_keys_ = EpochMessageKeys(leaf_count, std::move(secrets_.application_secret));
  secrets_.application_secret.Wipe();
}

absl::StatusOr<MemberGroup> MemberGroup::JoinFromWelcome(const GroupConfig& config,
                                                         const MemberIdentity& identity,
                                                         PrekeySecrets* prekeys,
                                                         const v1::Welcome& welcome,
                                                         const v1::Commit& add_commit,
                                                         const v1::PublicGroupState& state_after) {
  if (welcome.tenant_id() != config.tenant_id) {
    return absl::InvalidArgumentError("welcome.tenant_id is not this member's tenant");
  }
  if (!add_commit.has_add()) return absl::InvalidArgumentError("the commit a Welcome names must be an add");
  const v1::AddBody& add = add_commit.add();
  if (welcome.group_id() != add_commit.group_id() || welcome.group_id() != state_after.group_id() ||
      welcome.epoch() != add_commit.epoch() + 1 || welcome.epoch() != state_after.epoch() ||
      welcome.new_leaf() != add.new_leaf() || welcome.adder_leaf() != add_commit.signer_leaf() ||
      welcome.ephemeral_public_key() != add.ephemeral_public_key() ||
      welcome.signed_prekey_id() != add.signed_prekey_id() ||
      welcome.has_one_time_prekey() != add.has_one_time_prekey() ||
      welcome.one_time_prekey_id() != add.one_time_prekey_id()) {
    return absl::InvalidArgumentError(
        "welcome header does not match the add commit and group state it came with");
  }
  ART_ASSIGN_OR_RETURN(PublicGroup public_group,
                       PublicGroup::FromProto(state_after, config.tenant_id, config.trusted_tenant_keys));
  const PublicTree& tree = public_group.tree();
  ART_ASSIGN_OR_RETURN(LeafIndex own_leaf, FindOwnLeaf(tree, identity));
  if (own_leaf != welcome.new_leaf()) {
    return absl::InvalidArgumentError("welcome.new_leaf is not this member's leaf in the group state");
  }
  const LeafOccupant* adder = tree.occupant(welcome.adder_leaf());
  if (adder == nullptr || welcome.adder_leaf() == own_leaf) {
    return absl::InvalidArgumentError("welcome.adder_leaf is not another member of the group");
  }
  ART_ASSIGN_OR_RETURN(ChosenPrekeys chosen,
                       FindPrekeys(*prekeys, welcome.signed_prekey_id(), welcome.has_one_time_prekey(),
                                   welcome.one_time_prekey_id()));
  ART_ASSIGN_OR_RETURN(X25519PublicKey adder_dh_key,
                       ParseX25519PublicKey(state_after.leaves(welcome.adder_leaf()).credential().identity_dh_key(),
                                            "adder credential identity_dh_key"));
  ART_ASSIGN_OR_RETURN(X25519PublicKey ephemeral,
                       ParseX25519PublicKey(welcome.ephemeral_public_key(), "welcome.ephemeral_public_key"));
  ART_ASSIGN_OR_RETURN(SecretBytes agreement,
                       ReceiverKeyAgreement(identity.dh_key, *chosen.signed_prekey,
                                            chosen.one_time_prekey, adder_dh_key, ephemeral));
  const Bytes header = EncodeWelcomeHeader(welcome);
  ART_ASSIGN_OR_RETURN(MessageKey welcome_key, WelcomeKey(agreement, header));
  absl::StatusOr<SecretBytes> body = Aes256GcmOpen(welcome_key.key.span(), welcome_key.nonce.span(),
                                                   header, AsBytes(welcome.ciphertext()));
  if (!body.ok()) {
    return absl::PermissionDeniedError(
        "welcome does not decrypt: its header, keys or ciphertext were altered or are not for this member");
  }
  Decoder decoder(body->span());
  ByteSpan init_view, interim_view, tree_hash_view;
  if (!decoder.ReadVector(&init_view) || !decoder.ReadFixed(kSha256Size, &interim_view) ||
      !decoder.ReadFixed(kSha256Size, &tree_hash_view) || !decoder.done() ||
      init_view.size() != kSecretSize) {
    return absl::InvalidArgumentError("welcome body is malformed");
  }
  const SecretBytes previous_init(init_view);
  Sha256Digest previous_interim, previous_tree_hash;
  std::copy(interim_view.begin(), interim_view.end(), previous_interim.begin());
  std::copy(tree_hash_view.begin(), tree_hash_view.end(), previous_tree_hash.begin());

  // The add commit: signed by the adder over the epoch it left, and the one the Welcome names.
  const Bytes content =
      EncodeCommitContent(config.tenant_id, add_commit, previous_tree_hash, previous_interim);
  if (!VerifyWithLabel(adder->signing_key, "commit", content, AsBytes(add_commit.signature())).ok()) {
    return absl::PermissionDeniedError("the add commit's signature does not verify under the adder's key");
  }
  if (ToField(CommitHash(config.tenant_id, add_commit, previous_tree_hash, previous_interim)) !=
      welcome.commit_hash()) {
    return absl::InvalidArgumentError("welcome.commit_hash does not name the add commit given");
  }
  if (add_commit.new_tree_hash() != ToField(tree.tree_hash())) {
    return absl::InvalidArgumentError("the fetched group state is not the tree the add commit produced");
  }

  std::optional<uint32_t> one_time_id;
  if (welcome.has_one_time_prekey()) one_time_id = welcome.one_time_prekey_id();
  LeafContext context{config.tenant_id, public_group.group_id(), own_leaf, adder->credential_hash,
                      tree.occupant(own_leaf)->credential_hash, ephemeral, welcome.signed_prekey_id(),
                      one_time_id};
  ART_ASSIGN_OR_RETURN(X25519PrivateKey leaf_key, DeriveLeafKey(agreement, context));
  const Sha256Digest confirmed = ConfirmedTranscriptHash(
      previous_interim,
      EncodeCommitWithoutTag(config.tenant_id, add_commit, previous_tree_hash, previous_interim));
  if (InterimTranscriptHash(confirmed, AsBytes(add_commit.confirmation_tag())) !=
      public_group.interim_transcript_hash()) {
    return absl::InvalidArgumentError(
        "the fetched group state's transcript hash does not follow from the add commit");
  }
  return FinishJoin(config, identity, prekeys, std::move(public_group), own_leaf, leaf_key, previous_init,
                    confirmed, add_commit.confirmation_tag(), one_time_id);
}

absl::StatusOr<v1::ApplicationMessage> MemberGroup::Protect(uint32_t content_type, ByteSpan content) {
  if (!active_) return NotActive();
  ART_ASSIGN_OR_RETURN(StagedMessageKey staged, message_keys_.StageSend(own_leaf_));
  v1::ApplicationMessage message;
  message.set_group_id(std::string(public_group_.group_id().begin(), public_group_.group_id().end()));
  message.set_epoch(epoch());
  message.set_sender_leaf(own_leaf_);
  message.set_generation(staged.generation);
  message.set_content_type(content_type);
  const Bytes aad = EncodeMessageAad(config_.tenant_id, public_group_.group_id(), epoch(), own_leaf_,
                                     staged.generation, content_type);
  ART_ASSIGN_OR_RETURN(Ed25519Signature signature,
                       SignWithLabel(*signing_key_, "message", MessageSignatureContent(aad, content)));
  Encoder plaintext;
  plaintext.Vector(content).Vector(signature);
  SecretBytes plaintext_bytes = plaintext.TakeSecret();
  std::string reuse_guard(kReuseGuardSize, '\0');
  ART_RETURN_IF_ERROR(RandomFill(absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(reuse_guard.data()),
                                                     reuse_guard.size())));
  const SecretBytes nonce = ApplyReuseGuard(staged.key.nonce, AsBytes(reuse_guard));
  ART_ASSIGN_OR_RETURN(Bytes ciphertext,
                       Aes256GcmSeal(staged.key.key.span(), nonce.span(), aad, plaintext_bytes.span()));
  message.set_reuse_guard(reuse_guard);
  message.set_ciphertext(std::string(ciphertext.begin(), ciphertext.end()));
  message_keys_.Apply(std::move(staged));
  return message;
}

absl::StatusOr<ReceivedMessage> MemberGroup::Unprotect(const v1::ApplicationMessage& message) {
  if (!active_) return NotActive();
  if (message.group_id() != std::string(public_group_.group_id().begin(), public_group_.group_id().end())) {
    return absl::InvalidArgumentError("message.group_id is not this group's id");
  }
  EpochMessageKeys* keys = nullptr;
  const LeafOccupant* sender = public_group_.tree().occupant(message.sender_leaf());
  if (message.epoch() == epoch()) {
    keys = &message_keys_;
  } else if (epoch() > 0 && message.epoch() == epoch() - 1 && previous_message_keys_.has_value() &&
             config_.clock() < previous_expiry_) {
    keys = &*previous_message_keys_;
    if (message.sender_leaf() == previous_changed_leaf_) {
      sender = previous_changed_occupant_.has_value() ? &*previous_changed_occupant_ : nullptr;
    }
  } else {
    return absl::NotFoundError(absl::StrCat("no keys for epoch ", message.epoch(),
                                            " (the group is at epoch ", epoch(), ")"));
  }
  if (sender == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("message.sender_leaf ", message.sender_leaf(),
                                                   " held no member in epoch ", message.epoch()));
  }
  if (message.sender_leaf() == own_leaf_ && message.epoch() == epoch()) {
    return absl::InvalidArgumentError("message.sender_leaf is this member's own leaf");
  }
  if (message.reuse_guard().size() != kReuseGuardSize) {
    return absl::InvalidArgumentError("message.reuse_guard must be 4 bytes");
  }
  ART_ASSIGN_OR_RETURN(StagedMessageKey staged,
                       keys->StageReceive(message.sender_leaf(), message.generation()));
  const Bytes aad = EncodeMessageAad(config_.tenant_id, public_group_.group_id(), message.epoch(),
                                     message.sender_leaf(), message.generation(), message.content_type());
  const SecretBytes nonce = ApplyReuseGuard(staged.key.nonce, AsBytes(message.reuse_guard()));
  absl::StatusOr<SecretBytes> plaintext =
      Aes256GcmOpen(staged.key.key.span(), nonce.span(), aad, AsBytes(message.ciphertext()));
  if (!plaintext.ok()) {
    return absl::PermissionDeniedError("message does not decrypt: AEAD authentication failed");
  }
  Decoder decoder(plaintext->span());
  ByteSpan content, signature;
  if (!decoder.ReadVector(&content) || !decoder.ReadVector(&signature) || !decoder.done()) {
    return absl::InvalidArgumentError("message plaintext is malformed");
  }
  if (!VerifyWithLabel(sender->signing_key, "message", MessageSignatureContent(aad, content), signature)
           .ok()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "message signature does not verify under the key of the member at leaf ", message.sender_leaf()));
  }
  ReceivedMessage received;
  received.epoch = message.epoch();
  received.sender_leaf = message.sender_leaf();
  received.sender_member_id = sender->member_id;
  received.content_type = message.content_type();
  received.content = SecretBytes(content);
  keys->Apply(std::move(staged));
  return received;
}

absl::StatusOr<SecretBytes> MemberGroup::Export(std::string_view label, ByteSpan context,
                                                size_t length) const {
  if (!active_) return NotActive();
  return ExportSecret(secrets_.exporter_secret, label, context, length);
}

namespace {

constexpr std::string_view kStateMagic = "artd member group";
constexpr uint16_t kStateVersion = 1;

}  // namespace

absl::StatusOr<SecretBytes> MemberGroup::Serialize() const {
  Encoder encoder;
  encoder.String(kStateMagic).Uint16(kStateVersion).Bool(active_);
  const GroupHeader& header = public_group_.header();
  encoder.String(header.tenant_id).Vector(header.group_id).Uint64(header.epoch).Raw(header.interim_transcript_hash);
  encoder.Uint32(own_leaf_);
  if (!active_) return encoder.TakeSecret();
  public_group_.tree().EncodeTo(encoder);
  encoder.Uint32(static_cast<uint32_t>(path_keys_.size()));
  for (const auto& [node, key] : path_keys_) encoder.Uint32(node).Vector(key.secret().span());
  encoder.Vector(secrets_.init_secret.span())
      .Vector(secrets_.confirmation_key.span())
      .Vector(secrets_.exporter_secret.span())
      .Vector(secrets_.authenticator.span());
  message_keys_.EncodeTo(encoder);
  encoder.Bool(previous_message_keys_.has_value());
  if (previous_message_keys_.has_value()) {
    previous_message_keys_->EncodeTo(encoder);
    encoder.Uint64(static_cast<uint64_t>(absl::ToUnixNanos(previous_expiry_)));
  }
  encoder.Uint32(previous_changed_leaf_).Bool(previous_changed_occupant_.has_value());
  if (previous_changed_occupant_.has_value()) {
    encoder.String(previous_changed_occupant_->member_id)
        .Raw(previous_changed_occupant_->signing_key)
        .Raw(previous_changed_occupant_->credential_hash);
  }
  return encoder.TakeSecret();
}

absl::StatusOr<MemberGroup> MemberGroup::Deserialize(const GroupConfig& config, const MemberIdentity& identity,
                                                     ByteSpan serialized) {
  const absl::Status malformed = absl::DataLossError("stored group state is malformed");
  Decoder decoder(serialized);
  std::string magic;
  uint8_t version_high = 0, version_low = 0;
  MemberGroup group;
  GroupHeader header;
  if (!decoder.ReadString(&magic) || magic != kStateMagic || !decoder.ReadUint8(&version_high) ||
      !decoder.ReadUint8(&version_low) || ((version_high << 8) | version_low) != kStateVersion ||
      !decoder.ReadBool(&group.active_)) {
    return absl::DataLossError("not a stored group state of a version this SDK reads");
  }
  ByteSpan group_id;
  if (!decoder.ReadString(&header.tenant_id) || !decoder.ReadVector(&group_id) ||
      !decoder.ReadUint64(&header.epoch) || !decoder.ReadArray(&header.interim_transcript_hash) ||
      !decoder.ReadUint32(&group.own_leaf_)) {
    return malformed;
  }
  if (header.tenant_id != config.tenant_id) {
    return absl::InvalidArgumentError("stored group state belongs to another tenant");
  }
  header.group_id.assign(group_id.begin(), group_id.end());
  group.config_ = config;
  group.own_credential_ = identity.credential;
  if (!group.active_) {
    group.public_group_ = PublicGroup::FromLoadedState(std::move(header), PublicTree());
    return group;
  }
  ART_ASSIGN_OR_RETURN(PublicTree tree, PublicTree::DecodeFrom(decoder));
  const LeafOccupant* occupant = tree.occupant(group.own_leaf_);
  if (occupant == nullptr || occupant->credential_hash != CredentialHash(identity.credential)) {
    return absl::InvalidArgumentError("stored group state is not this member's");
  }
  uint32_t path_key_count = 0;
  if (!decoder.ReadUint32(&path_key_count) || path_key_count > 32) return malformed;
  for (uint32_t i = 0; i < path_key_count; ++i) {
    uint32_t node = 0;
    SecretBytes secret;
    if (!decoder.ReadUint32(&node) || !decoder.ReadSecret(&secret)) return malformed;
    ART_ASSIGN_OR_RETURN(X25519PrivateKey key, X25519PrivateKey::FromSecret(secret.span()));
    group.path_keys_.emplace_back(node, std::move(key));
  }
  if (!decoder.ReadSecret(&group.secrets_.init_secret) || !decoder.ReadSecret(&group.secrets_.confirmation_key) ||
      !decoder.ReadSecret(&group.secrets_.exporter_secret) || !decoder.ReadSecret(&group.secrets_.authenticator)) {
    return malformed;
  }
  ART_ASSIGN_OR_RETURN(group.message_keys_, EpochMessageKeys::DecodeFrom(decoder));
  bool has_previous = false;
  if (!decoder.ReadBool(&has_previous)) return malformed;
  if (has_previous) {
    ART_ASSIGN_OR_RETURN(group.previous_message_keys_, EpochMessageKeys::DecodeFrom(decoder));
    uint64_t expiry = 0;
    if (!decoder.ReadUint64(&expiry)) return malformed;
    group.previous_expiry_ = absl::FromUnixNanos(static_cast<int64_t>(expiry));
  }
  bool has_changed_occupant = false;
  if (!decoder.ReadUint32(&group.previous_changed_leaf_) || !decoder.ReadBool(&has_changed_occupant)) {
    return malformed;
  }
  if (has_changed_occupant) {
    LeafOccupant changed;
    if (!decoder.ReadString(&changed.member_id) || !decoder.ReadArray(&changed.signing_key) ||
        !decoder.ReadArray(&changed.credential_hash)) {
      return malformed;
    }
    group.previous_changed_occupant_ = std::move(changed);
  }
  if (!decoder.done()) return malformed;
  group.public_group_ =
      PublicGroup::FromLoadedState(std::move(header), std::move(tree));
  group.signing_key_ = identity.signing_key;
  group.identity_dh_key_ = identity.dh_key;
  return group;
}

void MemberGroup::ExpirePreviousEpoch() {
  if (previous_message_keys_.has_value() && config_.clock() >= previous_expiry_) {
    previous_message_keys_.reset();
  }
}

bool MemberGroup::ShouldUpdateBeforeSending() const {
  if (!active_) return false;
  const PublicTree& tree = public_group_.tree();
  if (tree.keyed_by(own_leaf_) != kNoLeaf) return true;
  if (tree.leaf_count() == 1) return false;
  return tree.SubtreeHasTaint(Sibling(LeafToNode(own_leaf_), tree.leaf_count()));
}

size_t MemberGroup::MemoryUsage() const {
  // Key objects hold a 32-byte secret plus the backend's object (about 200 bytes).
  constexpr size_t kKeyObjectBytes = 256;
  return sizeof(*this) + public_group_.tree().MemoryUsage() + path_keys_.size() * kKeyObjectBytes +
         own_credential_.SpaceUsedLong();
}

}  // namespace art
