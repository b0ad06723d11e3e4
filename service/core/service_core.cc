#include "service/core/service_core.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/identity/credential.h"
#include "art/identity/prekeys.h"
#include "art/protocol/public_group.h"
#include "art/requests/request_signature.h"
#include "art/tree/partial_tree.h"
#include "art/wire/fields.h"
#include "google/protobuf/util/message_differencer.h"

namespace artd {
namespace {

using art::kNoLeaf;
using art::ToField;

Bytes ToBytes(const std::string& value) { return Bytes(value.begin(), value.end()); }
template <size_t N>
Bytes ToBytes(const std::array<uint8_t, N>& value) { return Bytes(value.begin(), value.end()); }
std::string ToString(const Bytes& value) { return std::string(value.begin(), value.end()); }

template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> StoredArray(const Bytes& value, std::string_view what) {
  if (value.size() != N) {
    return absl::DataLossError(absl::StrCat("stored ", std::string(what), " has ", value.size(), " bytes"));
  }
  std::array<uint8_t, N> result;
  std::memcpy(result.data(), value.data(), N);
  return result;
}

absl::Status RequireMessage(bool present, std::string_view field) {
  if (present) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(std::string(field), " is required"));
}

absl::Status ValidateMemberId(const std::string& member_id, std::string_view field) {
  if (member_id.empty() || member_id.size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), " must be 1 to 256 bytes"));
  }
  return absl::OkStatus();
}

// A stored leaf as the tree's occupant.
absl::StatusOr<std::optional<art::LeafOccupant>> OccupantOf(const LeafRecord& record) {
  if (record.member_id.empty()) return std::nullopt;
  art::LeafOccupant occupant;
  occupant.member_id = record.member_id;
  ART_ASSIGN_OR_RETURN(occupant.signing_key, StoredArray<art::kEd25519PublicKeySize>(record.signing_key, "signing key"));
  ART_ASSIGN_OR_RETURN(occupant.credential_hash, StoredArray<art::kSha256Size>(record.credential_hash, "credential hash"));
  return occupant;
}

LeafRecord LeafRecordOf(art::LeafIndex leaf, const v1::Credential* credential, art::LeafIndex keyed_by) {
  LeafRecord record;
  record.leaf = leaf;
  record.keyed_by = keyed_by;
  if (credential != nullptr) {
    record.member_id = credential->member_id();
    record.credential = credential->SerializeAsString();
    record.credential_hash = ToBytes(art::CredentialHash(*credential));
    record.signing_key = ToBytes(credential->identity_signing_key());
  }
  return record;
}

NodeRecord NodeRecordOf(art::NodeIndex node, const art::X25519PublicKey* key, const art::Sha256Digest& hash) {
  NodeRecord record;
  record.node = node;
  if (key != nullptr) record.public_key = ToBytes(*key);
  record.hash = ToBytes(hash);
  return record;
}

}  // namespace

ServiceCore::ServiceCore(Store* store, ServiceConfig config) : store_(store), config_(std::move(config)) {
  if (!config_.now_unix_millis) {
    config_.now_unix_millis = [] { return static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())); };
  }
}

absl::StatusOr<std::vector<art::Ed25519PublicKey>> ServiceCore::TrustedKeys(const std::string& tenant) {
  ART_ASSIGN_OR_RETURN(std::vector<Bytes> stored, store_->TenantCredentialKeys(tenant));
  std::vector<art::Ed25519PublicKey> keys;
  for (const Bytes& key : stored) {
    ART_ASSIGN_OR_RETURN(art::Ed25519PublicKey parsed, StoredArray<art::kEd25519PublicKeySize>(key, "tenant key"));
    keys.push_back(parsed);
  }
  return keys;
}

absl::StatusOr<RequestNonce> ServiceCore::VerifyAuth(const std::string& tenant, std::string_view method,
                                                     const std::string& member_id, const v1::MemberAuth& auth,
                                                     const art::Sha256Digest& digest,
                                                     const art::Ed25519PublicKey& signing_key) {
  if (auth.member_id() != member_id) {
    return absl::PermissionDeniedError(absl::StrCat("auth.member_id \"", auth.member_id(),
                                                    "\" is not the member this request speaks for (\"",
                                                    member_id, "\")"));
  }
  const uint64_t now = Now();
  const uint64_t skew = config_.request_clock_skew_millis;
  if (auth.timestamp_unix_millis() + skew < now || auth.timestamp_unix_millis() > now + skew) {
    return absl::PermissionDeniedError(
        absl::StrCat("auth.timestamp_unix_millis is more than ", skew, " ms from the service's clock"));
  }
  ART_RETURN_IF_ERROR(art::VerifyRequestSignature(auth, signing_key, tenant, method, digest));
  return RequestNonce{member_id, ToBytes(auth.nonce()), auth.timestamp_unix_millis() + skew};
}

absl::Status ServiceCore::RefuseReplay(absl::Status recorded) {
  if (absl::IsAlreadyExists(recorded)) {
    return absl::PermissionDeniedError("auth.nonce was already used: a replayed request is refused");
  }
  return recorded;
}

absl::Status ServiceCore::CheckAuth(const std::string& tenant, std::string_view method,
                                    const std::string& member_id, const v1::MemberAuth& auth,
                                    const art::Sha256Digest& digest, const art::Ed25519PublicKey& signing_key) {
  ART_ASSIGN_OR_RETURN(RequestNonce nonce, VerifyAuth(tenant, method, member_id, auth, digest, signing_key));
  return RefuseReplay(store_->RecordRequestNonce(tenant, member_id, nonce.nonce, nonce.expires_unix_millis));
}

absl::Status ServiceCore::CheckPublishedMemberAuth(const std::string& tenant, std::string_view method,
                                                   const std::string& member_id, const v1::MemberAuth& auth,
                                                   const art::Sha256Digest& digest) {
  absl::StatusOr<std::string> stored = store_->GetIdentity(tenant, member_id);
  if (absl::IsNotFound(stored.status())) {
    return absl::PermissionDeniedError(
        absl::StrCat("member \"", member_id, "\" has not published an identity"));
  }
  ART_RETURN_IF_ERROR(stored.status());
  v1::Credential credential;
  if (!credential.ParseFromString(*stored)) return absl::DataLossError("stored credential does not parse");
  ART_ASSIGN_OR_RETURN(art::Ed25519PublicKey signing_key,
                       art::FixedBytes<art::kEd25519PublicKeySize>(credential.identity_signing_key(),
                                                                   "stored identity_signing_key"));
  return CheckAuth(tenant, method, member_id, auth, digest, signing_key);
}

// ---- Key directory ----

absl::StatusOr<v1::PublishIdentityResponse> ServiceCore::PublishIdentity(
    const std::string& tenant, const v1::PublishIdentityRequest& request) {
  ART_RETURN_IF_ERROR(RequireMessage(request.has_credential(), "credential"));
  ART_ASSIGN_OR_RETURN(std::vector<art::Ed25519PublicKey> trusted, TrustedKeys(tenant));
  ART_ASSIGN_OR_RETURN(art::VerifiedCredential verified,
                       art::VerifyCredential(request.credential(), tenant, trusted));
  // The member proves it holds IKs by signing the request with it.
  ART_RETURN_IF_ERROR(CheckAuth(tenant, art::kPublishIdentityMethod, verified.member_id, request.auth(),
                                art::RequestDigest(request), verified.signing_key));
  ART_RETURN_IF_ERROR(store_->PutIdentity(tenant, verified.member_id, request.credential().SerializeAsString()));
  return v1::PublishIdentityResponse();
}

absl::StatusOr<v1::UploadPrekeysResponse> ServiceCore::UploadPrekeys(const std::string& tenant,
                                                                    const v1::UploadPrekeysRequest& request) {
  ART_RETURN_IF_ERROR(ValidateMemberId(request.member_id(), "member_id"));
  if (static_cast<uint32_t>(request.one_time_prekeys_size()) > config_.max_one_time_prekeys_per_upload) {
    return absl::ResourceExhaustedError(absl::StrCat("one_time_prekeys holds ", request.one_time_prekeys_size(),
                                                     " prekeys; at most ", config_.max_one_time_prekeys_per_upload,
                                                     " per upload"));
  }
  ART_RETURN_IF_ERROR(CheckPublishedMemberAuth(tenant, art::kUploadPrekeysMethod, request.member_id(),
                                               request.auth(), art::RequestDigest(request)));
  ART_ASSIGN_OR_RETURN(std::string stored, store_->GetIdentity(tenant, request.member_id()));
  v1::Credential credential;
  credential.ParseFromString(stored);
  ART_ASSIGN_OR_RETURN(art::VerifiedCredential owner, art::VerifyCredential(credential, tenant, {}));
  std::string signed_prekey;
  if (request.has_signed_prekey()) {
    ART_RETURN_IF_ERROR(art::VerifySignedPrekey(owner, request.signed_prekey(), Now() / 1000).status());
    signed_prekey = request.signed_prekey().SerializeAsString();
  }
  std::vector<std::pair<uint32_t, std::string>> one_time;
  for (int i = 0; i < request.one_time_prekeys_size(); ++i) {
    const v1::OneTimePrekey& prekey = request.one_time_prekeys(i);
    absl::Status valid = art::ParseOneTimePrekey(prekey).status();
    if (!valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("one_time_prekeys[", i, "]: ", valid.message()));
    }
    one_time.emplace_back(prekey.prekey_id(), prekey.SerializeAsString());
  }
  ART_ASSIGN_OR_RETURN(PrekeyCounts counts,
                       store_->PutPrekeys(tenant, request.member_id(), signed_prekey,
                                          request.signed_prekey().prekey_id(),
                                          request.signed_prekey().expiry_unix_seconds(), one_time,
                                          config_.max_one_time_prekeys_stored));
  v1::UploadPrekeysResponse response;
  response.set_one_time_prekeys_remaining(counts.one_time_remaining);
  return response;
}

absl::StatusOr<v1::CountPrekeysResponse> ServiceCore::CountPrekeys(const std::string& tenant,
                                                                  const v1::CountPrekeysRequest& request) {
  ART_RETURN_IF_ERROR(ValidateMemberId(request.member_id(), "member_id"));
  ART_ASSIGN_OR_RETURN(PrekeyCounts counts, store_->CountPrekeys(tenant, request.member_id()));
  v1::CountPrekeysResponse response;
  response.set_one_time_prekeys_remaining(counts.one_time_remaining);
  response.set_signed_prekey_id(counts.signed_prekey_id.value_or(0));
  response.set_signed_prekey_expiry_unix_seconds(counts.signed_prekey_expiry_unix_seconds);
  return response;
}

absl::StatusOr<v1::FetchPrekeyBundleResponse> ServiceCore::FetchPrekeyBundle(
    const std::string& tenant, const v1::FetchPrekeyBundleRequest& request) {
  ART_RETURN_IF_ERROR(ValidateMemberId(request.member_id(), "member_id"));
  ART_ASSIGN_OR_RETURN(TakenBundle taken, store_->TakePrekeyBundle(tenant, request.member_id()));
  v1::FetchPrekeyBundleResponse response;
  v1::PrekeyBundle* bundle = response.mutable_bundle();
  if (!bundle->mutable_credential()->ParseFromString(taken.credential) ||
      !bundle->mutable_signed_prekey()->ParseFromString(taken.signed_prekey) ||
      (!taken.one_time_prekey.empty() &&
       !bundle->mutable_one_time_prekey()->ParseFromString(taken.one_time_prekey))) {
    return absl::DataLossError("a stored prekey record does not parse");
  }
  return response;
}

// ---- Groups ----

absl::StatusOr<v1::CreateGroupResponse> ServiceCore::CreateGroup(const std::string& tenant,
                                                                const v1::CreateGroupRequest& request) {
  ART_RETURN_IF_ERROR(RequireMessage(request.has_setup(), "setup"));
  const v1::Setup& setup = request.setup();
  if (static_cast<uint32_t>(setup.members_size()) > config_.max_group_size) {
    return absl::ResourceExhaustedError(absl::StrCat("setup.members holds ", setup.members_size(),
                                                     " members; the limit is ", config_.max_group_size));
  }
  ART_ASSIGN_OR_RETURN(std::vector<art::Ed25519PublicKey> trusted, TrustedKeys(tenant));
  ART_ASSIGN_OR_RETURN(art::PublicGroup group, art::PublicGroup::FromSetup(tenant, setup, trusted));
  // The Setup is itself signed by its creator over all its content, and a group id is taken once, so
  // a MemberAuth adds nothing; one sent anyway is still checked.
  if (request.has_auth()) {
    const std::string& creator = setup.members(0).credential().member_id();
    ART_RETURN_IF_ERROR(CheckAuth(tenant, art::kCreateGroupMethod, creator, request.auth(),
                                  art::RequestDigest(request), group.tree().occupant(0)->signing_key));
  }
  const art::PublicTree& tree = group.tree();
  GroupHeaderRecord header;
  header.epoch = 0;
  header.leaf_count = tree.leaf_count();
  header.tree_hash = ToBytes(tree.tree_hash());
  header.interim_transcript_hash = ToBytes(group.interim_transcript_hash());
  header.leftmost_blank_leaf = kNoLeaf;
  std::vector<LeafRecord> leaves;
  for (art::LeafIndex leaf = 0; leaf < tree.leaf_count(); ++leaf) {
    leaves.push_back(LeafRecordOf(leaf, &setup.members(leaf).credential(), tree.keyed_by(leaf)));
  }
  std::vector<NodeRecord> nodes;
  for (art::NodeIndex node = 0; node < art::NodeWidth(tree.leaf_count()); ++node) {
    nodes.push_back(NodeRecordOf(node, tree.key(node), tree.node_hash(node)));
  }
  ART_RETURN_IF_ERROR(store_->CreateGroup(tenant, setup.group_id(), header, leaves, nodes,
                                          setup.SerializeAsString()));
  v1::CreateGroupResponse response;
  response.set_epoch(0);
  response.set_tree_hash(ToField(tree.tree_hash()));
  return response;
}

absl::StatusOr<v1::PublicGroupState> ServiceCore::LoadState(const std::string& tenant, const std::string& group_id,
                                                            std::optional<uint64_t> epoch) {
  ART_ASSIGN_OR_RETURN(GroupHeaderRecord header, store_->GroupHeader(tenant, group_id, epoch));
  std::vector<NodeRecord> nodes;
  std::vector<LeafRecord> leaves;
  // The tree as of the header's epoch: its rows are versioned, so this second read agrees with it.
  ART_RETURN_IF_ERROR(store_->LoadTree(tenant, group_id, header.epoch, &nodes, &leaves));
  // Every stored group has a leaf (its creator's); NodeWidth(0) would wrap around below.
  if (header.leaf_count == 0) {
    return absl::DataLossError(absl::StrCat("stored group \"", group_id, "\" has no leaves at epoch ", header.epoch));
  }
  v1::PublicGroupState state;
  state.set_tenant_id(tenant);
  state.set_group_id(group_id);
  state.set_epoch(header.epoch);
  state.set_tree_hash(ToString(header.tree_hash));
  state.set_interim_transcript_hash(ToString(header.interim_transcript_hash));
  for (art::LeafIndex leaf = 0; leaf < header.leaf_count; ++leaf) state.add_leaves();
  for (art::LeafIndex leaf = 0; leaf + 1 < header.leaf_count; ++leaf) state.add_parent_public_keys();
  for (const LeafRecord& record : leaves) {
    if (record.leaf >= header.leaf_count) continue;
    v1::TreeLeaf* tree_leaf = state.mutable_leaves(static_cast<int>(record.leaf));
    if (!record.credential.empty() && !tree_leaf->mutable_credential()->ParseFromString(record.credential)) {
      return absl::DataLossError("a stored credential does not parse");
    }
    tree_leaf->set_keyed_by(record.keyed_by == kNoLeaf ? 0 : record.keyed_by + 1);
  }
  for (const NodeRecord& record : nodes) {
    if (record.node >= art::NodeWidth(header.leaf_count)) continue;
    if (art::IsLeaf(record.node)) {
      state.mutable_leaves(static_cast<int>(art::NodeToLeaf(record.node)))->set_public_key(ToString(record.public_key));
    } else {
      *state.mutable_parent_public_keys(static_cast<int>(record.node / 2)) = ToString(record.public_key);
    }
  }
  return state;
}

absl::StatusOr<v1::GetSetupResponse> ServiceCore::GetSetup(const std::string& tenant,
                                                          const v1::GetSetupRequest& request) {
  ART_RETURN_IF_ERROR(art::ValidateGroupId(request.group_id()));
  ART_ASSIGN_OR_RETURN(StoredCommit stored, store_->GetCommit(tenant, request.group_id(), 0));
  v1::GetSetupResponse response;
  // Epoch 0's entry in the log is the Setup.
  if (!response.mutable_setup()->ParseFromString(stored.commit)) return absl::DataLossError("the stored setup does not parse");
  return response;
}

absl::StatusOr<v1::GetGroupResponse> ServiceCore::GetGroup(const std::string& tenant,
                                                          const v1::GetGroupRequest& request) {
  ART_RETURN_IF_ERROR(art::ValidateGroupId(request.group_id()));
  v1::GetGroupResponse response;
  if (!request.has_member_leaf()) {
    ART_ASSIGN_OR_RETURN(*response.mutable_state(), LoadState(tenant, request.group_id(), std::nullopt));
    return response;
  }
  // The member's path and copath, from the same snapshot as the header they are shown with.
  ART_ASSIGN_OR_RETURN(
      GroupView view, store_->ReadGroupView(tenant, request.group_id(), [&](const GroupHeaderRecord& current)
                                                                            -> absl::StatusOr<TreeSelection> {
        if (request.member_leaf() >= current.leaf_count) {
          return absl::InvalidArgumentError(absl::StrCat("member_leaf ", request.member_leaf(),
                                                         " is out of range for ", current.leaf_count, " leaves"));
        }
        const art::NodeIndex leaf_node = art::LeafToNode(request.member_leaf());
        TreeSelection selection{current.epoch, {leaf_node}, {}};
        for (art::NodeIndex node : art::DirectPath(leaf_node, current.leaf_count)) selection.nodes.push_back(node);
        for (art::NodeIndex node : art::Copath(leaf_node, current.leaf_count)) selection.nodes.push_back(node);
        return selection;
      }));
  const GroupHeaderRecord& current = view.current;
  v1::PublicGroupState* state = response.mutable_state();
  state->set_tenant_id(tenant);
  state->set_group_id(request.group_id());
  state->set_epoch(current.epoch);
  state->set_tree_hash(ToString(current.tree_hash));
  state->set_interim_transcript_hash(ToString(current.interim_transcript_hash));
  const std::vector<NodeRecord>& rows = view.nodes;
  for (const NodeRecord& row : rows) {
    v1::TreeNodeKey* key = response.add_path_nodes();
    key->set_node(row.node);
    key->set_public_key(ToString(row.public_key));
  }
  return response;
}

absl::StatusOr<v1::SubmitCommitResponse> ServiceCore::SubmitCommit(const std::string& tenant,
                                                                  const v1::SubmitCommitRequest& request) {
  ART_RETURN_IF_ERROR(RequireMessage(request.has_commit(), "commit"));
  const v1::Commit& commit = request.commit();
  const std::string& group_id = commit.group_id();
  ART_RETURN_IF_ERROR(art::ValidateGroupId(group_id));
  // What this commit reads, in one snapshot: the signer, the path leaf with its path and copath, a
  // removed leaf; which leaf that is depends on the current header.
  art::LeafIndex path_leaf = commit.signer_leaf();
  ART_ASSIGN_OR_RETURN(
      GroupView view, store_->ReadGroupView(tenant, group_id, [&](const GroupHeaderRecord& current)
                                                                  -> absl::StatusOr<TreeSelection> {
        if (commit.epoch() != current.epoch) {
          return absl::AbortedError(absl::StrCat("commit.epoch ", commit.epoch(),
                                                 " lost: the group is at current epoch ", current.epoch,
                                                 "; fetch the commits since and retry"));
        }
        if (commit.has_add()) {
          path_leaf = current.leftmost_blank_leaf != kNoLeaf ? current.leftmost_blank_leaf : current.leaf_count;
        } else if (commit.has_remove()) {
          path_leaf = commit.remove().removed_leaf();
        }
        if (path_leaf > current.leaf_count || commit.signer_leaf() >= current.leaf_count) {
          return absl::InvalidArgumentError(absl::StrCat("commit names leaf ",
                                                         std::max(path_leaf, commit.signer_leaf()),
                                                         " of a group of ", current.leaf_count, " leaves"));
        }
        TreeSelection selection{current.epoch, art::PartialTree::NodesForPath(path_leaf, current.leaf_count),
                                {commit.signer_leaf()}};
        for (art::NodeIndex node : selection.nodes) {
          if (art::IsLeaf(node)) selection.leaves.push_back(art::NodeToLeaf(node));
        }
        return selection;
      }));
  const GroupHeaderRecord& header = view.current;
  const std::vector<NodeRecord>& node_rows = view.nodes;
  const std::vector<LeafRecord>& leaf_rows = view.leaves;
  ART_ASSIGN_OR_RETURN(art::Sha256Digest tree_hash, StoredArray<art::kSha256Size>(header.tree_hash, "tree hash"));
  art::PartialTree partial(header.leaf_count, tree_hash);
  for (const NodeRecord& row : node_rows) {
    std::optional<art::X25519PublicKey> key;
    if (!row.public_key.empty()) {
      ART_ASSIGN_OR_RETURN(key, StoredArray<art::kX25519KeySize>(row.public_key, "node key"));
    }
    ART_ASSIGN_OR_RETURN(art::Sha256Digest hash, StoredArray<art::kSha256Size>(row.hash, "node hash"));
    partial.AddNode(row.node, key, hash);
  }
  std::map<art::LeafIndex, LeafRecord> loaded_leaves;
  for (const LeafRecord& row : leaf_rows) {
    ART_ASSIGN_OR_RETURN(std::optional<art::LeafOccupant> occupant, OccupantOf(row));
    partial.AddLeaf(row.leaf, std::move(occupant), row.keyed_by);
    loaded_leaves[row.leaf] = row;
  }
  partial.SetLeftmostBlankLeaf(header.leftmost_blank_leaf);
  if (commit.has_add()) {
    const std::string& added = commit.add().credential().member_id();
    ART_ASSIGN_OR_RETURN(uint32_t leaf, store_->FindMemberLeaf(tenant, group_id, added));
    partial.AddMemberLookup(added, leaf);
  }
  art::GroupHeader group_header{tenant, ToBytes(group_id), header.epoch, {}};
  ART_ASSIGN_OR_RETURN(group_header.interim_transcript_hash,
                       StoredArray<art::kSha256Size>(header.interim_transcript_hash, "interim hash"));
  // The tenant's credential keys vouch for an added member's credential and nothing else here, so
  // an update or a removal (most commits) spares the read.
  std::vector<art::Ed25519PublicKey> trusted;
  if (commit.has_add()) {
    ART_ASSIGN_OR_RETURN(trusted, TrustedKeys(tenant));
  }
  ART_ASSIGN_OR_RETURN(art::StagedPublicCommit staged,
                       art::StageCommitOn(group_header, partial, commit, trusted));
  // The commit is signed by the member at its signer leaf over the group, the epoch and its content
  // (checked above): that is the member's authorization, and the epoch compare-and-swap refuses a
  // replay. A MemberAuth is therefore optional here (it costs a second signature check); one sent
  // anyway is still checked, and its nonce is recorded in the commit's own transaction.
  std::optional<RequestNonce> nonce;
  if (request.has_auth()) {
    const art::LeafOccupant* signer = partial.occupant(commit.signer_leaf());
    ART_ASSIGN_OR_RETURN(nonce, VerifyAuth(tenant, art::kSubmitCommitMethod, signer->member_id, request.auth(),
                                           art::RequestDigest(request), signer->signing_key));
  }

  // The Welcome travels with its Add and nothing else.
  if (commit.has_add() != request.has_welcome()) {
    return absl::InvalidArgumentError(commit.has_add() ? "an add commit needs its welcome"
                                                       : "welcome is only for an add commit");
  }
  if (request.has_welcome()) {
    const v1::Welcome& welcome = request.welcome();
    const std::string commit_hash =
        ToField(art::CommitHash(tenant, commit, tree_hash, group_header.interim_transcript_hash));
    if (welcome.tenant_id() != tenant || welcome.group_id() != group_id || welcome.epoch() != header.epoch + 1 ||
        welcome.new_leaf() != staged.path_leaf || welcome.adder_leaf() != commit.signer_leaf() ||
        welcome.commit_hash() != commit_hash) {
      return absl::InvalidArgumentError("welcome header does not match its add commit");
    }
  }

  const art::TreeChange& change = staged.tree_change;
  CommitWrite write;
  write.expected_epoch = header.epoch;
  write.new_header.epoch = header.epoch + 1;
  write.new_header.leaf_count = change.new_leaf_count;
  write.new_header.tree_hash = ToBytes(change.tree_hash);
  write.new_header.interim_transcript_hash = ToBytes(staged.interim_transcript_hash);
  write.new_header.leftmost_blank_leaf = header.leftmost_blank_leaf;
  if (staged.type == art::CommitType::kRemove) {
    write.new_header.leftmost_blank_leaf = std::min(header.leftmost_blank_leaf, staged.path_leaf);
  } else if (staged.type == art::CommitType::kAdd && staged.path_leaf == header.leftmost_blank_leaf) {
    ART_ASSIGN_OR_RETURN(write.new_header.leftmost_blank_leaf,
                         store_->NextBlankLeaf(tenant, group_id, staged.path_leaf + 1));
  }
  for (const auto& [node, hash] : change.hashes) {
    const art::X25519PublicKey* key = nullptr;
    for (const auto& [key_node, node_key] : change.keys) {
      if (key_node == node) key = &node_key;
    }
    write.nodes.push_back(NodeRecordOf(node, key, hash));
  }
  const v1::Credential* occupant_credential = nullptr;
  v1::Credential kept;
  if (staged.type == art::CommitType::kAdd) {
    occupant_credential = &commit.add().credential();
  } else if (staged.type == art::CommitType::kUpdate) {
    kept.ParseFromString(loaded_leaves[staged.path_leaf].credential);
    occupant_credential = &kept;
  }
  write.leaves.push_back(LeafRecordOf(staged.path_leaf, occupant_credential, change.start_keyed_by));
  if (change.dropped_leaf != kNoLeaf) write.leaves.push_back(LeafRecordOf(change.dropped_leaf, nullptr, kNoLeaf));
  write.commit = commit.SerializeAsString();
  if (request.has_welcome()) {
    write.welcome = request.welcome().SerializeAsString();
    write.welcome_member_id = commit.add().credential().member_id();
  }
  write.nonce = std::move(nonce);
  const absl::Status applied = store_->ApplyCommit(tenant, group_id, write);
  // ALREADY_EXISTS here can only be a used nonce.
  ART_RETURN_IF_ERROR(write.nonce.has_value() ? RefuseReplay(applied) : applied);
  NotifyWatchers();
  v1::SubmitCommitResponse response;
  response.set_epoch(header.epoch + 1);
  return response;
}

absl::StatusOr<v1::ListCommitsResponse> ServiceCore::ListCommits(const std::string& tenant,
                                                                const v1::ListCommitsRequest& request) {
  ART_RETURN_IF_ERROR(art::ValidateGroupId(request.group_id()));
  const uint32_t limit = ListLimit(request.limit());
  ART_ASSIGN_OR_RETURN(std::vector<StoredCommit> stored,
                       store_->ListCommits(tenant, request.group_id(), request.after_epoch(), limit));
  // Read after the commits: epochs only grow, so the current epoch returned is never below the last
  // commit listed (read before, a commit landing in between made a response claim an epoch older
  // than its own commits).
  ART_ASSIGN_OR_RETURN(GroupHeaderRecord header, store_->GroupHeader(tenant, request.group_id()));
  v1::ListCommitsResponse response;
  response.set_current_epoch(header.epoch);
  for (const StoredCommit& commit : stored) {
    if (commit.epoch == 0) continue;  // The Setup: fetched with the group, not listed as a commit.
    if (!response.add_commits()->ParseFromString(commit.commit)) return absl::DataLossError("a stored commit does not parse");
  }
  return response;
}

// ---- Alarms ----

absl::StatusOr<v1::ReportAlarmResponse> ServiceCore::ReportAlarm(const std::string& tenant,
                                                                const v1::ReportAlarmRequest& request) {
  ART_RETURN_IF_ERROR(RequireMessage(request.has_commit(), "commit"));
  const v1::Commit& commit = request.commit();
  ART_RETURN_IF_ERROR(art::ValidateGroupId(commit.group_id()));
  if (request.reason() != v1::ALARM_REASON_COMMIT_FOR_OWN_LEAF &&
      request.reason() != v1::ALARM_REASON_COMMIT_REJECTED) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason ", static_cast<int>(request.reason()), " is not an alarm reason"));
  }
  if (request.detail().size() > art::kMaxAlarmDetailBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("detail is ", request.detail().size(), " bytes; the limit is ", art::kMaxAlarmDetailBytes));
  }
  // The reporter held |reporter_leaf| in the epoch the commit was made from; that leaf's key signs.
  const art::LeafIndex reporter = request.reporter_leaf();
  auto select = [&](const GroupHeaderRecord& current) -> absl::StatusOr<TreeSelection> {
    if (commit.epoch() >= current.epoch) {
      return absl::InvalidArgumentError(absl::StrCat("commit.epoch ", commit.epoch(),
                                                     " has no accepted commit (the group is at epoch ", current.epoch,
                                                     ")"));
    }
    return TreeSelection{commit.epoch(), {}, {reporter}};
  };
  ART_ASSIGN_OR_RETURN(GroupView view, store_->ReadGroupView(tenant, commit.group_id(), select));
  if (view.leaves.empty() || view.leaves[0].member_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("reporter_leaf ", reporter, " holds no member in epoch ", commit.epoch()));
  }
  ART_ASSIGN_OR_RETURN(std::optional<art::LeafOccupant> occupant, OccupantOf(view.leaves[0]));
  ART_ASSIGN_OR_RETURN(RequestNonce nonce, VerifyAuth(tenant, art::kReportAlarmMethod, occupant->member_id,
                                                      request.auth(), art::RequestDigest(request),
                                                      occupant->signing_key));
  // The evidence must be the commit the service accepted: an alarm cannot blame a commit made up.
  ART_ASSIGN_OR_RETURN(StoredCommit stored,
                       store_->GetCommit(tenant, commit.group_id(), commit.epoch() + 1));
  v1::Commit accepted;
  if (!accepted.ParseFromString(stored.commit)) return absl::DataLossError("a stored commit does not parse");
  if (!google::protobuf::util::MessageDifferencer::Equals(accepted, commit)) {
    return absl::InvalidArgumentError(
        absl::StrCat("commit is not the commit accepted for epoch ", commit.epoch() + 1));
  }
  AlarmRecord alarm;
  alarm.group_id = commit.group_id();
  alarm.epoch = commit.epoch();
  alarm.reporter_member_id = occupant->member_id;
  alarm.reason = static_cast<uint32_t>(request.reason());
  alarm.detail = request.detail();
  alarm.reported_unix_millis = Now();
  absl::StatusOr<uint64_t> id = store_->RecordAlarm(tenant, alarm, nonce);
  ART_RETURN_IF_ERROR(RefuseReplay(id.status()));
  v1::ReportAlarmResponse response;
  response.set_alarm_id(*id);
  return response;
}

absl::StatusOr<v1::ListAlarmsResponse> ServiceCore::ListAlarms(const std::string& tenant,
                                                              const v1::ListAlarmsRequest& request) {
  if (!request.group_id().empty()) ART_RETURN_IF_ERROR(art::ValidateGroupId(request.group_id()));
  ART_ASSIGN_OR_RETURN(std::vector<AlarmRecord> stored, store_->ListAlarms(tenant, request.group_id(),
                                                                           request.after_alarm_id(),
                                                                           ListLimit(request.limit())));
  v1::ListAlarmsResponse response;
  for (const AlarmRecord& alarm : stored) {
    v1::Alarm* out = response.add_alarms();
    out->set_alarm_id(alarm.alarm_id);
    out->set_group_id(alarm.group_id);
    out->set_epoch(alarm.epoch);
    out->set_reporter_member_id(alarm.reporter_member_id);
    out->set_reason(static_cast<v1::AlarmReason>(alarm.reason));
    out->set_detail(alarm.detail);
    out->set_reported_unix_millis(alarm.reported_unix_millis);
  }
  return response;
}

void ServiceCore::NotifyWatchers() {
  absl::MutexLock lock(&watch_mutex_);
  ++watch_generation_;
  watch_changed_.SignalAll();
}

absl::Status ServiceCore::WatchGroup(const std::string& tenant, const v1::WatchGroupRequest& request,
                                     const std::function<bool(const v1::GroupEvent&)>& emit,
                                     const std::function<bool()>& cancelled) {
  ART_RETURN_IF_ERROR(art::ValidateGroupId(request.group_id()));
  ART_RETURN_IF_ERROR(store_->GroupHeader(tenant, request.group_id()).status());
  uint64_t epoch = request.after_epoch();
  uint64_t sequence = request.after_message_sequence();
  while (!cancelled()) {
    uint64_t generation;
    {
      absl::MutexLock lock(&watch_mutex_);
      generation = watch_generation_;
    }
    ART_ASSIGN_OR_RETURN(std::vector<StoredCommit> commits,
                         store_->ListCommits(tenant, request.group_id(), epoch, config_.max_list_limit));
    for (const StoredCommit& stored : commits) {
      v1::GroupEvent event;
      if (!event.mutable_commit()->ParseFromString(stored.commit)) return absl::DataLossError("a stored commit does not parse");
      if (!emit(event)) return absl::OkStatus();
      epoch = stored.epoch;
    }
    ART_ASSIGN_OR_RETURN(std::vector<StoredMessageRecord> messages,
                         store_->FetchMessages(tenant, request.group_id(), sequence, config_.max_list_limit, Now()));
    for (const StoredMessageRecord& record : messages) {
      v1::GroupEvent event;
      v1::StoredMessage* message = event.mutable_message();
      message->set_sequence(record.sequence);
      message->set_posted_unix_millis(record.posted_unix_millis);
      if (!message->mutable_message()->ParseFromString(record.message)) return absl::DataLossError("a stored message does not parse");
      if (!emit(event)) return absl::OkStatus();
      sequence = record.sequence;
    }
    if (!commits.empty() || !messages.empty()) continue;  // There may be more than one page.
    // Wait for news from this replica, or poll again for other replicas' news.
    absl::MutexLock lock(&watch_mutex_);
    const absl::Time deadline = absl::Now() + absl::Milliseconds(config_.watch_poll_interval_millis);
    while (watch_generation_ == generation) {
      if (watch_changed_.WaitWithDeadline(&watch_mutex_, deadline)) break;  // Timed out: poll.
    }
  }
  return absl::OkStatus();
}

// ---- Mailbox ----

absl::StatusOr<v1::PostMessageResponse> ServiceCore::PostMessage(const std::string& tenant,
                                                                const v1::PostMessageRequest& request) {
  ART_RETURN_IF_ERROR(RequireMessage(request.has_message(), "message"));
  const v1::ApplicationMessage& message = request.message();
  ART_RETURN_IF_ERROR(art::ValidateGroupId(message.group_id()));
  if (message.ByteSizeLong() > config_.max_message_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("message is ", message.ByteSizeLong(), " bytes; the limit is ",
                                                     config_.max_message_bytes));
  }
  const art::LeafIndex sender = message.sender_leaf();
  ART_ASSIGN_OR_RETURN(
      GroupView view, store_->ReadGroupView(tenant, message.group_id(), [&](const GroupHeaderRecord& current)
                                                                            -> absl::StatusOr<TreeSelection> {
        // The sender must hold its leaf in the message's epoch (the current one or the one before,
        // for late messages).
        if (message.epoch() > current.epoch || message.epoch() + 1 < current.epoch) {
          return absl::FailedPreconditionError(absl::StrCat("message.epoch ", message.epoch(),
                                                            " is neither the group's current epoch ",
                                                            current.epoch, " nor the one before"));
        }
        return TreeSelection{message.epoch(), {}, {sender}};
      }));
  const std::vector<LeafRecord>& rows = view.leaves;
  if (rows.empty() || rows[0].member_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("message.sender_leaf ", sender, " holds no member in epoch ",
                                                   message.epoch()));
  }
  ART_ASSIGN_OR_RETURN(std::optional<art::LeafOccupant> occupant, OccupantOf(rows[0]));
  // The nonce is recorded with the message, in one durable write.
  ART_ASSIGN_OR_RETURN(RequestNonce nonce, VerifyAuth(tenant, art::kPostMessageMethod, occupant->member_id,
                                                      request.auth(), art::RequestDigest(request),
                                                      occupant->signing_key));
  const uint64_t now = Now();
  absl::StatusOr<uint64_t> sequence = store_->AppendMessage(tenant, message.group_id(), message.SerializeAsString(),
                                                            now, now + config_.message_ttl_millis, &nonce);
  ART_RETURN_IF_ERROR(RefuseReplay(sequence.status()));
  NotifyWatchers();
  v1::PostMessageResponse response;
  response.set_sequence(*sequence);
  return response;
}

absl::StatusOr<v1::FetchMessagesResponse> ServiceCore::FetchMessages(const std::string& tenant,
                                                                    const v1::FetchMessagesRequest& request) {
  ART_RETURN_IF_ERROR(art::ValidateGroupId(request.group_id()));
  const uint32_t limit = ListLimit(request.limit());
  ART_RETURN_IF_ERROR(store_->GroupHeader(tenant, request.group_id()).status());
  ART_ASSIGN_OR_RETURN(std::vector<StoredMessageRecord> stored,
                       store_->FetchMessages(tenant, request.group_id(), request.after_sequence(), limit, Now()));
  v1::FetchMessagesResponse response;
  for (const StoredMessageRecord& record : stored) {
    v1::StoredMessage* message = response.add_messages();
    message->set_sequence(record.sequence);
    message->set_posted_unix_millis(record.posted_unix_millis);
    if (!message->mutable_message()->ParseFromString(record.message)) return absl::DataLossError("a stored message does not parse");
  }
  return response;
}

absl::StatusOr<v1::FetchWelcomesResponse> ServiceCore::FetchWelcomes(const std::string& tenant,
                                                                    const v1::FetchWelcomesRequest& request) {
  ART_RETURN_IF_ERROR(ValidateMemberId(request.member_id(), "member_id"));
  ART_RETURN_IF_ERROR(CheckPublishedMemberAuth(tenant, art::kFetchWelcomesMethod, request.member_id(),
                                               request.auth(), art::RequestDigest(request)));
  ART_ASSIGN_OR_RETURN(std::vector<StoredWelcome> stored, store_->FetchWelcomes(tenant, request.member_id()));
  v1::FetchWelcomesResponse response;
  for (const StoredWelcome& record : stored) {
    v1::PendingWelcome* pending = response.add_welcomes();
    pending->set_welcome_id(record.welcome_id);
    if (!pending->mutable_welcome()->ParseFromString(record.welcome)) return absl::DataLossError("a stored welcome does not parse");
    ART_ASSIGN_OR_RETURN(StoredCommit commit, store_->GetCommit(tenant, record.group_id, record.epoch));
    if (!pending->mutable_commit()->ParseFromString(commit.commit)) {
      return absl::DataLossError("the commit of a stored welcome does not parse");
    }
    ART_ASSIGN_OR_RETURN(*pending->mutable_state_after(), LoadState(tenant, record.group_id, record.epoch));
  }
  return response;
}

absl::StatusOr<v1::AckWelcomeResponse> ServiceCore::AckWelcome(const std::string& tenant,
                                                              const v1::AckWelcomeRequest& request) {
  ART_RETURN_IF_ERROR(ValidateMemberId(request.member_id(), "member_id"));
  ART_RETURN_IF_ERROR(CheckPublishedMemberAuth(tenant, art::kAckWelcomeMethod, request.member_id(),
                                               request.auth(), art::RequestDigest(request)));
  ART_RETURN_IF_ERROR(store_->DeleteWelcome(tenant, request.member_id(), request.welcome_id()));
  return v1::AckWelcomeResponse();
}

// ---- State blobs ----

absl::StatusOr<v1::PutStateResponse> ServiceCore::PutState(const std::string& tenant,
                                                          const v1::PutStateRequest& request) {
  ART_RETURN_IF_ERROR(ValidateMemberId(request.member_id(), "member_id"));
  if (request.name().empty() || request.name().size() > 256) {
    return absl::InvalidArgumentError("name must be 1 to 256 bytes");
  }
  if (request.ciphertext().size() > config_.max_state_blob_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("ciphertext is ", request.ciphertext().size(),
                                                     " bytes; the limit is ", config_.max_state_blob_bytes));
  }
  ART_RETURN_IF_ERROR(CheckPublishedMemberAuth(tenant, art::kPutStateMethod, request.member_id(), request.auth(),
                                               art::RequestDigest(request)));
  ART_ASSIGN_OR_RETURN(uint64_t version, store_->PutStateBlob(tenant, request.member_id(), request.name(),
                                                              request.expected_version(), request.ciphertext()));
  v1::PutStateResponse response;
  response.set_version(version);
  return response;
}

absl::StatusOr<v1::GetStateResponse> ServiceCore::GetState(const std::string& tenant,
                                                          const v1::GetStateRequest& request) {
  ART_RETURN_IF_ERROR(ValidateMemberId(request.member_id(), "member_id"));
  ART_RETURN_IF_ERROR(CheckPublishedMemberAuth(tenant, art::kGetStateMethod, request.member_id(), request.auth(),
                                               art::RequestDigest(request)));
  ART_ASSIGN_OR_RETURN(StateBlob blob, store_->GetStateBlob(tenant, request.member_id(), request.name()));
  v1::GetStateResponse response;
  response.set_version(blob.version);
  response.set_ciphertext(blob.ciphertext);
  return response;
}

}  // namespace artd
