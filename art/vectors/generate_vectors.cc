// Writes the interoperability test vectors (docs/test-vectors.md) into a directory:
//   bazel run //art/vectors:generate_vectors -- $PWD/tests/vectors
// Every input is fixed (see FixedBytes), so the output is the same on every run and platform.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/crypto/aead.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"
#include "art/crypto/x25519.h"
#include "art/protocol/encodings.h"
#include "art/protocol/key_agreement.h"
#include "art/protocol/message_keys.h"
#include "art/protocol/path_derivation.h"
#include "art/schedule/key_schedule.h"
#include "art/tree/public_tree.h"
#include "art/tree/tree_math.h"
#include "art/vectors/vector_util.h"

namespace art {
namespace vectors {
namespace {

constexpr char kTenant[] = "tenant-vectors";

// A fixed X25519 key pair whose secret is FixedBytes(name, index).
absl::StatusOr<X25519PrivateKey> FixedKey(std::string_view name, uint32_t index) {
  return X25519PrivateKey::FromSecret(FixedBytes(name, index));
}

// Adds "<field>_secret" and "<field>_public" for a fixed key pair to |object|.
absl::StatusOr<X25519PrivateKey> AddFixedKey(Json& object, std::string_view field,
                                             std::string_view name, uint32_t index) {
  ART_ASSIGN_OR_RETURN(X25519PrivateKey key, FixedKey(name, index));
  const std::string prefix(field);
  object[prefix + "_secret"] = HexJson(key.secret().span());
  object[prefix + "_public"] = HexJson(key.public_key());
  return key;
}

Bytes GroupId(uint32_t index) {
  const Sha256Digest digest = FixedBytes("group_id", index);
  return Bytes(digest.begin(), digest.begin() + 16);
}

// ---------------------------------------------------------------------------------------------
// tree_math.json

constexpr uint32_t kMaxListedNodes = 64;

Json TreeMathCase(uint32_t leaf_count) {
  const NodeIndex root = Root(leaf_count);
  Json result = {{"n", leaf_count}, {"width", NodeWidth(leaf_count)}, {"root", root}};
  Json& nodes = result["nodes"] = Json::array();
  for (NodeIndex node = 0; node < std::min(NodeWidth(leaf_count), kMaxListedNodes); ++node) {
    Json entry = {{"node", node}, {"level", Level(node)}};
    if (!IsLeaf(node)) {
      entry["left"] = Left(node);
      entry["right"] = Right(node, leaf_count);
    }
    if (node != root) {
      entry["parent"] = Parent(node, leaf_count);
      entry["sibling"] = Sibling(node, leaf_count);
    }
    nodes.push_back(std::move(entry));
  }
  Json& paths = result["paths"] = Json::array();
  for (LeafIndex leaf : std::set<LeafIndex>{0, leaf_count / 2, leaf_count - 1}) {
    const NodeIndex node = LeafToNode(leaf);
    paths.push_back({{"leaf", leaf},
                     {"node", node},
                     {"direct_path", DirectPath(node, leaf_count)},
                     {"copath", Copath(node, leaf_count)}});
  }
  return result;
}

absl::StatusOr<Json> TreeMathVectors() {
  Json file = NewVectorFile(
      "Left-balanced tree index math (draft-ietf-mls-protocol-11 Appendix C): root of n leaves, "
      "and for the first 64 nodes their level, children, parent and sibling where defined; direct "
      "path and copath of leaves 0, n/2 and n-1.");
  Json& cases = file["cases"] = Json::array();
  std::vector<uint32_t> counts;
  for (uint32_t n = 1; n <= 17; ++n) counts.push_back(n);
  for (uint32_t n : {31u, 32u, 33u, 100u, 1000u}) counts.push_back(n);
  for (uint32_t n : counts) cases.push_back(TreeMathCase(n));
  return file;
}

// ---------------------------------------------------------------------------------------------
// node_derivation.json

constexpr uint32_t kNodeDerivationCases = 5;

absl::StatusOr<Json> NodeDerivationVectors() {
  Json file = NewVectorFile(
      "Parent node keys: parent_secret = ExpandWithLabel(HKDF-Extract(\"\", X25519(child_secret, "
      "other_public)), \"node\", \"\", 32); parent_public = X25519(parent_secret, 9). Either child "
      "derives the same parent.");
  Json& cases = file["cases"] = Json::array();
  for (uint32_t i = 0; i < kNodeDerivationCases; ++i) {
    Json entry;
    ART_ASSIGN_OR_RETURN(X25519PrivateKey child, AddFixedKey(entry, "child", "node child", i));
    ART_ASSIGN_OR_RETURN(X25519PrivateKey other, AddFixedKey(entry, "other", "node other", i));
    ART_ASSIGN_OR_RETURN(SecretBytes shared, child.Agree(other.public_key()));
    ART_ASSIGN_OR_RETURN(X25519PrivateKey parent, DeriveParentKey(child, other.public_key()));
    ART_ASSIGN_OR_RETURN(X25519PrivateKey mirrored, DeriveParentKey(other, child.public_key()));
    if (mirrored.secret() != parent.secret()) {
      return absl::InternalError("the two children derive different parents");
    }
    entry["shared_secret"] = HexJson(shared.span());
    entry["parent_secret"] = HexJson(parent.secret().span());
    entry["parent_public"] = HexJson(parent.public_key());
    cases.push_back(std::move(entry));
  }
  return file;
}

// ---------------------------------------------------------------------------------------------
// tree_hash.json

// A tree shape: one character per leaf ('o' occupied, 'k' blank that keeps a key, '_' blank
// without a key) and the parent nodes that have no key.
struct TreeShape {
  std::string leaves;
  std::vector<NodeIndex> keyless_parents;
};

absl::StatusOr<Json> TreeHashCase(uint32_t case_index, const TreeShape& shape) {
  const uint32_t leaf_count = static_cast<uint32_t>(shape.leaves.size());
  std::vector<std::optional<LeafOccupant>> occupants(leaf_count);
  std::vector<std::optional<X25519PublicKey>> keys(NodeWidth(leaf_count));
  Json leaves = Json::array();
  for (LeafIndex leaf = 0; leaf < leaf_count; ++leaf) {
    const char kind = shape.leaves[leaf];
    Json entry = {{"leaf", leaf}, {"blank", kind != 'o'}};
    if (kind == 'o') {
      LeafOccupant occupant;
      occupant.member_id = absl::StrCat("member-", leaf);
      occupant.credential_hash = FixedBytes(absl::StrCat("credential_hash ", case_index), leaf);
      entry["credential_hash"] = HexJson(occupant.credential_hash);
      occupants[leaf] = std::move(occupant);
    }
    leaves.push_back(std::move(entry));
  }
  Json node_keys = Json::array();
  for (NodeIndex node = 0; node < keys.size(); ++node) {
    const bool keyless = IsLeaf(node) ? shape.leaves[NodeToLeaf(node)] == '_'
                                      : std::count(shape.keyless_parents.begin(),
                                                   shape.keyless_parents.end(), node) > 0;
    if (keyless) {
      node_keys.push_back(nullptr);
      continue;
    }
    ART_ASSIGN_OR_RETURN(X25519PrivateKey key, FixedKey(absl::StrCat("tree node ", case_index), node));
    keys[node] = key.public_key();
    node_keys.push_back(HexJson(key.public_key()));
  }
  ART_ASSIGN_OR_RETURN(PublicTree tree,
                       PublicTree::Load(std::move(occupants), std::move(keys),
                                        std::vector<LeafIndex>(leaf_count, kNoLeaf)));
  Json node_hashes = Json::array();
  for (NodeIndex node = 0; node < NodeWidth(leaf_count); ++node) {
    node_hashes.push_back(HexJson(tree.node_hash(node)));
  }
  return Json{{"n", leaf_count},         {"leaves", std::move(leaves)},
              {"node_keys", node_keys},  {"node_hashes", std::move(node_hashes)},
              {"tree_hash", HexJson(tree.tree_hash())}};
}

absl::StatusOr<Json> TreeHashVectors() {
  Json file = NewVectorFile(
      "Merkle tree hash: leaf = H(encode(uint8 0, uint32 index, bool blank, <pk>, <cred_hash>)), "
      "parent = H(encode(uint8 1, <pk>, left hash, right hash)), tree_hash = H(encode(uint8 2, "
      "uint32 n, root hash)); <x> is a uint32-length-prefixed vector, empty when absent.");
  const std::vector<TreeShape> shapes = {
      {"o", {}},
      {"oo", {}},
      {"oooko", {}},
      {"oooo__o", {9}},
      {"oooooooo", {}},
  };
  Json& cases = file["cases"] = Json::array();
  for (uint32_t i = 0; i < shapes.size(); ++i) {
    ART_ASSIGN_OR_RETURN(Json entry, TreeHashCase(i, shapes[i]));
    cases.push_back(std::move(entry));
  }
  return file;
}

// ---------------------------------------------------------------------------------------------
// setup_leaf.json

struct SetupLeafInput {
  uint32_t leaf;
  bool with_one_time_prekey;
};

absl::StatusOr<Json> SetupLeafCase(uint32_t index, const SetupLeafInput& input) {
  const Bytes group_id = GroupId(index);
  Json entry = {{"tenant_id", kTenant},
                {"group_id", HexJson(group_id)},
                {"leaf", input.leaf},
                {"signed_prekey_id", 100 + index}};
  ART_ASSIGN_OR_RETURN(X25519PrivateKey sender_identity,
                       AddFixedKey(entry, "sender_identity", "setup ik_c", index));
  ART_ASSIGN_OR_RETURN(X25519PrivateKey ephemeral,
                       AddFixedKey(entry, "ephemeral", "setup suk", index));
  ART_ASSIGN_OR_RETURN(X25519PrivateKey receiver_identity,
                       AddFixedKey(entry, "receiver_identity", "setup IKd_j", index));
  ART_ASSIGN_OR_RETURN(X25519PrivateKey signed_prekey,
                       AddFixedKey(entry, "receiver_signed_prekey", "setup EK_j", index));
  std::optional<X25519PrivateKey> one_time_prekey;
  if (input.with_one_time_prekey) {
    ART_ASSIGN_OR_RETURN(one_time_prekey,
                         AddFixedKey(entry, "receiver_one_time_prekey", "setup OPK_j", index));
    entry["one_time_prekey_id"] = 200 + index;
  }
  LeafContext context;
  context.tenant_id = kTenant;
  context.group_id = group_id;
  context.leaf = input.leaf;
  context.sender_credential_hash = FixedBytes("setup cred_hash_c", index);
  context.receiver_credential_hash = FixedBytes("setup cred_hash_j", index);
  context.ephemeral = ephemeral.public_key();
  context.signed_prekey_id = entry["signed_prekey_id"].get<uint32_t>();
  if (input.with_one_time_prekey) context.one_time_prekey_id = 200 + index;
  entry["sender_credential_hash"] = HexJson(context.sender_credential_hash);
  entry["receiver_credential_hash"] = HexJson(context.receiver_credential_hash);

  const X25519PublicKey* one_time_public =
      one_time_prekey.has_value() ? &one_time_prekey->public_key() : nullptr;
  ART_ASSIGN_OR_RETURN(SecretBytes sender_prk,
                       SenderKeyAgreement(sender_identity, ephemeral,
                                          receiver_identity.public_key(),
                                          signed_prekey.public_key(), one_time_public));
  ART_ASSIGN_OR_RETURN(SecretBytes receiver_prk,
                       ReceiverKeyAgreement(receiver_identity, signed_prekey,
                                            one_time_prekey ? &*one_time_prekey : nullptr,
                                            sender_identity.public_key(), ephemeral.public_key()));
  if (sender_prk != receiver_prk) {
    return absl::InternalError("sender and receiver key agreements differ");
  }
  ART_ASSIGN_OR_RETURN(X25519PrivateKey leaf_key, DeriveLeafKey(sender_prk, context));
  entry["agreement_key"] = HexJson(sender_prk.span());
  entry["leaf_secret"] = HexJson(leaf_key.secret().span());
  entry["leaf_public"] = HexJson(leaf_key.public_key());
  return entry;
}

absl::StatusOr<Json> SetupLeafVectors() {
  Json file = NewVectorFile(
      "Setup/add leaf derivation: DHs = X25519(ik_c, IKd_j) || X25519(ik_c, EK_j) || "
      "X25519(suk, IKd_j) || X25519(suk, EK_j) [|| X25519(suk, OPK_j)]; agreement_key = "
      "HKDF-Extract(\"\", DHs); leaf_secret = ExpandWithLabel(agreement_key, \"leaf\", "
      "H(encode(suite, tenant, group_id, j, cred_hash_c, cred_hash_j, SUK, EK id, OPK id)), 32).");
  const std::vector<SetupLeafInput> inputs = {{1, true}, {2, false}, {5, true}, {6, false}};
  Json& cases = file["cases"] = Json::array();
  for (uint32_t i = 0; i < inputs.size(); ++i) {
    ART_ASSIGN_OR_RETURN(Json entry, SetupLeafCase(i, inputs[i]));
    cases.push_back(std::move(entry));
  }
  return file;
}

// ---------------------------------------------------------------------------------------------
// key_schedule.json

constexpr uint32_t kScheduleEpochs = 4;
constexpr char kExportLabel[] = "vector export";
constexpr size_t kExportLength = 20;

absl::StatusOr<Json> KeyScheduleVectors() {
  Json file = NewVectorFile(
      "Epoch key schedule and transcript hashes, epochs chained from init_{-1} = interim_{-1} = "
      "32 zero bytes. Each epoch's previous_init_secret and previous_interim_hash are the previous "
      "epoch's init_secret and interim_transcript_hash.");
  const Bytes group_id = GroupId(0);
  file["tenant_id"] = kTenant;
  file["group_id"] = HexJson(group_id);
  Json& epochs = file["epochs"] = Json::array();
  SecretBytes init_secret = ZeroSecret();
  Sha256Digest interim{};
  for (uint32_t epoch = 0; epoch < kScheduleEpochs; ++epoch) {
    const Sha256Digest root_secret = FixedBytes("schedule root_secret", epoch);
    EpochContext context;
    context.tenant_id = kTenant;
    context.group_id = group_id;
    context.epoch = epoch;
    context.tree_hash = FixedBytes("schedule tree_hash", epoch);
    const std::string commit =
        absl::StrCat("art test vector commit without tag, epoch ", epoch, std::string(epoch * 7, '.'));
    context.confirmed_transcript_hash = ConfirmedTranscriptHash(interim, AsBytes(commit));
    ART_ASSIGN_OR_RETURN(SecretBytes tree_key, DeriveTreeKey(SecretBytes(root_secret)));
    ART_ASSIGN_OR_RETURN(EpochSecrets secrets, DeriveEpochSecrets(init_secret, tree_key, context));
    const SecretBytes tag = ConfirmationTag(secrets.confirmation_key, context.confirmed_transcript_hash);
    const Sha256Digest next_interim =
        InterimTranscriptHash(context.confirmed_transcript_hash, tag.span());
    const Bytes export_context(commit.begin(), commit.begin() + 12);
    ART_ASSIGN_OR_RETURN(SecretBytes exported,
                         ExportSecret(secrets.exporter_secret, kExportLabel, export_context,
                                      kExportLength));
    epochs.push_back({
        {"epoch", epoch},
        {"previous_init_secret", HexJson(init_secret.span())},
        {"previous_interim_hash", HexJson(interim)},
        {"root_secret", HexJson(root_secret)},
        {"tree_hash", HexJson(context.tree_hash)},
        {"commit_without_tag", HexJson(AsBytes(commit))},
        {"tree_key", HexJson(tree_key.span())},
        {"confirmed_transcript_hash", HexJson(context.confirmed_transcript_hash)},
        {"init_secret", HexJson(secrets.init_secret.span())},
        {"confirmation_key", HexJson(secrets.confirmation_key.span())},
        {"application_secret", HexJson(secrets.application_secret.span())},
        {"exporter_secret", HexJson(secrets.exporter_secret.span())},
        {"authenticator", HexJson(secrets.authenticator.span())},
        {"confirmation_tag", HexJson(tag.span())},
        {"interim_transcript_hash", HexJson(next_interim)},
        {"export",
         {{"label", kExportLabel},
          {"context", HexJson(export_context)},
          {"length", kExportLength},
          {"secret", HexJson(exported.span())}}},
    });
    init_secret = std::move(secrets.init_secret);
    interim = next_interim;
  }
  return file;
}

// ---------------------------------------------------------------------------------------------
// message_protection.json

struct MessageGroup {
  uint32_t leaf_count;
  uint64_t epoch;
  std::vector<LeafIndex> senders;
  std::vector<uint32_t> generations;
};

constexpr uint32_t kContentType = 1;
constexpr size_t kReuseGuardSize = 4;

absl::StatusOr<Json> MessageCase(const EpochMessageKeys& keys, const Bytes& group_id,
                                 uint64_t epoch, LeafIndex sender, uint32_t generation) {
  ART_ASSIGN_OR_RETURN(StagedMessageKey staged, keys.StageReceive(sender, generation));
  const Sha256Digest guard_bytes =
      FixedBytes(absl::StrCat("message reuse_guard ", sender), generation);
  const ByteSpan reuse_guard(guard_bytes.data(), kReuseGuardSize);
  const SecretBytes guarded_nonce = ApplyReuseGuard(staged.key.nonce, reuse_guard);
  const std::string plaintext =
      absl::StrCat("art test vector message from leaf ", sender, ", generation ", generation);
  const Bytes aad = EncodeMessageAad(kTenant, group_id, epoch, sender, generation, kContentType);
  ART_ASSIGN_OR_RETURN(Bytes ciphertext, Aes256GcmSeal(staged.key.key.span(), guarded_nonce.span(),
                                                       aad, AsBytes(plaintext)));
  return Json{{"sender", sender},
              {"generation", generation},
              {"key", HexJson(staged.key.key.span())},
              {"nonce", HexJson(staged.key.nonce.span())},
              {"reuse_guard", HexJson(reuse_guard)},
              {"guarded_nonce", HexJson(guarded_nonce.span())},
              {"content_type", kContentType},
              {"aad", HexJson(aad)},
              {"plaintext", HexJson(AsBytes(plaintext))},
              {"ciphertext", HexJson(ciphertext)}};
}

absl::StatusOr<Json> MessageProtectionVectors() {
  Json file = NewVectorFile(
      "Application message keys from the secret tree and per-sender chains, and one AES-256-GCM "
      "encryption per key: nonce XOR reuse guard (first 4 bytes), AAD = encode(suite, tenant, "
      "group_id, epoch, sender leaf, generation, content type), ciphertext = plaintext sealed || "
      "16-byte tag.");
  const std::vector<MessageGroup> groups = {
      {5, 3, {0, 1, 4}, {0, 1, 7}},
      {11, 42, {0, 6, 10}, {0, 2, 1024}},
  };
  Json& cases = file["cases"] = Json::array();
  for (uint32_t i = 0; i < groups.size(); ++i) {
    const MessageGroup& group = groups[i];
    const Bytes group_id = GroupId(i);
    const Sha256Digest application_secret = FixedBytes("message application_secret", i);
    const EpochMessageKeys keys(group.leaf_count, SecretBytes(application_secret));
    Json messages = Json::array();
    for (LeafIndex sender : group.senders) {
      for (uint32_t generation : group.generations) {
        ART_ASSIGN_OR_RETURN(Json message, MessageCase(keys, group_id, group.epoch, sender, generation));
        messages.push_back(std::move(message));
      }
    }
    cases.push_back({{"tenant_id", kTenant},
                     {"group_id", HexJson(group_id)},
                     {"epoch", group.epoch},
                     {"leaf_count", group.leaf_count},
                     {"application_secret", HexJson(application_secret)},
                     {"messages", std::move(messages)}});
  }
  return file;
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<Json> MakeVectors(std::string_view name) {
  if (name == "tree_math") return TreeMathVectors();
  if (name == "node_derivation") return NodeDerivationVectors();
  if (name == "tree_hash") return TreeHashVectors();
  if (name == "setup_leaf") return SetupLeafVectors();
  if (name == "key_schedule") return KeyScheduleVectors();
  if (name == "message_protection") return MessageProtectionVectors();
  return absl::InternalError(absl::StrCat("no generator for ", std::string(name)));
}

absl::Status GenerateAll(const std::string& directory) {
  for (std::string_view name : kVectorFiles) {
    ART_ASSIGN_OR_RETURN(Json vectors, MakeVectors(name));
    const std::string path = absl::StrCat(directory, "/", std::string(name), ".json");
    ART_RETURN_IF_ERROR(WriteJsonFile(path, vectors));
    std::printf("wrote %s\n", path.c_str());
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace vectors
}  // namespace art

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: %s OUTPUT_DIRECTORY\n"
                 "Writes the ART interoperability test vectors (docs/test-vectors.md), e.g.\n"
                 "  bazel run //art/vectors:generate_vectors -- $PWD/tests/vectors\n",
                 argv[0]);
    return 2;
  }
  std::string directory = argv[1];
  // Under `bazel run` the working directory is the runfiles tree: resolve relative paths against
  // the directory the command was started from.
  const char* start_directory = std::getenv("BUILD_WORKING_DIRECTORY");
  if (!directory.empty() && directory[0] != '/' && start_directory != nullptr) {
    directory = absl::StrCat(start_directory, "/", directory);
  }
  const absl::Status status = art::vectors::GenerateAll(directory);
  if (!status.ok()) {
    std::fprintf(stderr, "generate_vectors: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
