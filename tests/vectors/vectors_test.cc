// Recomputes every value of the committed test vectors (tests/vectors/*.json) from the inputs
// written in each file, through the protocol's own functions. Any edited value, and any file
// whose cases are all missing, makes a test fail.
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
#include "gtest/gtest.h"

namespace art {
namespace vectors {
namespace {

// The test runs in the runfiles root, where the files of `data` keep their workspace paths.
constexpr char kVectorDirectory[] = "tests/vectors";

// The value of |result|, or a failure that ends the test (gtest reports the exception).
template <typename T>
T Must(absl::StatusOr<T> result) {
  if (!result.ok()) throw std::runtime_error(result.status().ToString());
  return *std::move(result);
}

Json LoadVectorFile(std::string_view name) {
  Json file = Must(ReadJsonFile(absl::StrCat(kVectorDirectory, "/", std::string(name), ".json")));
  EXPECT_EQ(file.at("version"), kVectorVersion);
  EXPECT_FALSE(file.at("description").get<std::string>().empty());
  return file;
}

// object[key] must be the lower-case hex of |actual|.
void ExpectHex(const Json& object, std::string_view key, ByteSpan actual) {
  EXPECT_EQ(object.at(std::string(key)).get<std::string>(), ToHex(actual)) << key;
}

Bytes Hex(const Json& object, std::string_view key) { return Must(HexField(object, key)); }

template <size_t N>
std::array<uint8_t, N> FixedHex(const Json& object, std::string_view key) {
  return Must(FixedHexField<N>(object, key));
}

// The key pair whose scalar is object["<field>_secret"]; its public key must match
// object["<field>_public"].
X25519PrivateKey KeyPair(const Json& object, std::string_view field) {
  const std::string prefix(field);
  X25519PrivateKey key = Must(X25519PrivateKey::FromSecret(Hex(object, prefix + "_secret")));
  ExpectHex(object, prefix + "_public", key.public_key());
  return key;
}

TEST(VectorsTest, EveryFileIsChecked) {
  std::set<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(kVectorDirectory)) {
    if (entry.path().extension() == ".json") found.insert(entry.path().stem().string());
  }
  const std::set<std::string> known(kVectorFiles.begin(), kVectorFiles.end());
  EXPECT_EQ(found, known);
}

TEST(VectorsTest, TreeMath) {
  const Json file = LoadVectorFile("tree_math");
  int checked = 0;
  for (const Json& test : file.at("cases")) {
    const uint32_t n = test.at("n");
    ASSERT_TRUE(n >= 1 && n <= kMaxLeaves) << n;
    const NodeIndex root = Root(n);
    EXPECT_EQ(test.at("width"), NodeWidth(n));
    EXPECT_EQ(test.at("root"), root);
    const Json& nodes = test.at("nodes");
    ASSERT_EQ(nodes.size(), std::min<uint32_t>(NodeWidth(n), 64)) << "n = " << n;
    for (NodeIndex node = 0; node < nodes.size(); ++node) {
      const Json& entry = nodes[node];
      SCOPED_TRACE(absl::StrCat("n = ", n, ", node ", node));
      EXPECT_EQ(entry.at("node"), node);
      EXPECT_EQ(entry.at("level"), Level(node));
      EXPECT_EQ(entry.contains("left"), !IsLeaf(node));
      EXPECT_EQ(entry.contains("right"), !IsLeaf(node));
      EXPECT_EQ(entry.contains("parent"), node != root);
      EXPECT_EQ(entry.contains("sibling"), node != root);
      if (!IsLeaf(node)) {
        EXPECT_EQ(entry.value("left", 0u), Left(node));
        EXPECT_EQ(entry.value("right", 0u), Right(node, n));
      }
      if (node != root) {
        EXPECT_EQ(entry.value("parent", 0u), Parent(node, n));
        EXPECT_EQ(entry.value("sibling", 0u), Sibling(node, n));
      }
    }
    for (const Json& path : test.at("paths")) {
      const LeafIndex leaf = path.at("leaf");
      // Tree math takes in-range indices as a precondition (Parent() of a node outside the tree
      // does not return).
      ASSERT_LT(leaf, n);
      EXPECT_EQ(path.at("node"), LeafToNode(leaf));
      EXPECT_EQ(path.at("direct_path").get<std::vector<NodeIndex>>(),
                DirectPath(LeafToNode(leaf), n));
      EXPECT_EQ(path.at("copath").get<std::vector<NodeIndex>>(), Copath(LeafToNode(leaf), n));
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(VectorsTest, NodeDerivation) {
  const Json file = LoadVectorFile("node_derivation");
  int checked = 0;
  for (const Json& test : file.at("cases")) {
    const X25519PrivateKey child = KeyPair(test, "child");
    const X25519PrivateKey other = KeyPair(test, "other");
    ExpectHex(test, "shared_secret", Must(child.Agree(other.public_key())).span());
    // Both children must arrive at the same parent.
    for (const auto& [own, peer] : {std::make_pair(&child, &other), std::make_pair(&other, &child)}) {
      const X25519PrivateKey parent = Must(DeriveParentKey(*own, peer->public_key()));
      ExpectHex(test, "parent_secret", parent.secret().span());
      ExpectHex(test, "parent_public", parent.public_key());
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(VectorsTest, TreeHash) {
  const Json file = LoadVectorFile("tree_hash");
  int checked = 0;
  for (const Json& test : file.at("cases")) {
    const uint32_t n = test.at("n");
    ASSERT_TRUE(n >= 1 && n <= kMaxLeaves) << n;
    std::vector<std::optional<LeafOccupant>> occupants(n);
    const Json& leaves = test.at("leaves");
    ASSERT_EQ(leaves.size(), n);
    for (LeafIndex index = 0; index < n; ++index) {
      const Json& leaf = leaves[index];
      EXPECT_EQ(leaf.at("leaf"), index);
      EXPECT_EQ(leaf.contains("credential_hash"), !leaf.at("blank").get<bool>());
      if (leaf.at("blank").get<bool>()) continue;
      occupants[index] = LeafOccupant{absl::StrCat("member-", index), Ed25519PublicKey{},
                                      FixedHex<kSha256Size>(leaf, "credential_hash")};
    }
    std::vector<std::optional<X25519PublicKey>> keys;
    for (const Json& key : test.at("node_keys")) {
      if (key.is_null()) {
        keys.emplace_back();
      } else {
        keys.push_back(Must(FixedHexValue<kX25519KeySize>(key, "node key")));
      }
    }
    const PublicTree tree =
        Must(PublicTree::Load(std::move(occupants), std::move(keys), std::vector<LeafIndex>(n, kNoLeaf)));
    const Json& hashes = test.at("node_hashes");
    ASSERT_EQ(hashes.size(), NodeWidth(n));
    for (NodeIndex node = 0; node < NodeWidth(n); ++node) {
      EXPECT_EQ(hashes[node].get<std::string>(), ToHex(tree.node_hash(node)))
          << "n = " << n << ", node " << node;
    }
    ExpectHex(test, "tree_hash", tree.tree_hash());
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(VectorsTest, SetupLeaf) {
  const Json file = LoadVectorFile("setup_leaf");
  int checked = 0;
  for (const Json& test : file.at("cases")) {
    const X25519PrivateKey sender_identity = KeyPair(test, "sender_identity");
    const X25519PrivateKey ephemeral = KeyPair(test, "ephemeral");
    const X25519PrivateKey receiver_identity = KeyPair(test, "receiver_identity");
    const X25519PrivateKey signed_prekey = KeyPair(test, "receiver_signed_prekey");
    const bool with_one_time_prekey = test.contains("receiver_one_time_prekey_secret");
    EXPECT_EQ(test.contains("one_time_prekey_id"), with_one_time_prekey);
    std::optional<X25519PrivateKey> one_time_prekey;
    if (with_one_time_prekey) one_time_prekey = KeyPair(test, "receiver_one_time_prekey");

    const SecretBytes sender_side = Must(SenderKeyAgreement(
        sender_identity, ephemeral, receiver_identity.public_key(), signed_prekey.public_key(),
        one_time_prekey ? &one_time_prekey->public_key() : nullptr));
    const SecretBytes receiver_side = Must(ReceiverKeyAgreement(
        receiver_identity, signed_prekey, one_time_prekey ? &*one_time_prekey : nullptr,
        sender_identity.public_key(), ephemeral.public_key()));
    ExpectHex(test, "agreement_key", sender_side.span());
    ExpectHex(test, "agreement_key", receiver_side.span());

    const std::string tenant_id = test.at("tenant_id");
    const Bytes group_id = Hex(test, "group_id");
    LeafContext context;
    context.tenant_id = tenant_id;
    context.group_id = group_id;
    context.leaf = test.at("leaf");
    context.sender_credential_hash = FixedHex<kSha256Size>(test, "sender_credential_hash");
    context.receiver_credential_hash = FixedHex<kSha256Size>(test, "receiver_credential_hash");
    context.ephemeral = ephemeral.public_key();
    context.signed_prekey_id = test.at("signed_prekey_id");
    if (with_one_time_prekey) context.one_time_prekey_id = test.value("one_time_prekey_id", 0u);
    const X25519PrivateKey leaf_key = Must(DeriveLeafKey(receiver_side, context));
    ExpectHex(test, "leaf_secret", leaf_key.secret().span());
    ExpectHex(test, "leaf_public", leaf_key.public_key());
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(VectorsTest, KeySchedule) {
  const Json file = LoadVectorFile("key_schedule");
  const std::string tenant_id = file.at("tenant_id");
  const Bytes group_id = Hex(file, "group_id");
  SecretBytes init_secret = ZeroSecret();
  Sha256Digest interim{};
  int checked = 0;
  for (const Json& test : file.at("epochs")) {
    SCOPED_TRACE(absl::StrCat("epoch ", test.at("epoch").get<uint64_t>()));
    // Each epoch continues from the one before.
    ExpectHex(test, "previous_init_secret", init_secret.span());
    ExpectHex(test, "previous_interim_hash", interim);
    EpochContext context;
    context.tenant_id = tenant_id;
    context.group_id = group_id;
    context.epoch = test.at("epoch");
    context.tree_hash = FixedHex<kSha256Size>(test, "tree_hash");
    context.confirmed_transcript_hash =
        ConfirmedTranscriptHash(interim, Hex(test, "commit_without_tag"));
    ExpectHex(test, "confirmed_transcript_hash", context.confirmed_transcript_hash);

    const SecretBytes tree_key = Must(DeriveTreeKey(SecretBytes(Hex(test, "root_secret"))));
    ExpectHex(test, "tree_key", tree_key.span());
    EpochSecrets secrets = Must(DeriveEpochSecrets(init_secret, tree_key, context));
    ExpectHex(test, "init_secret", secrets.init_secret.span());
    ExpectHex(test, "confirmation_key", secrets.confirmation_key.span());
    ExpectHex(test, "application_secret", secrets.application_secret.span());
    ExpectHex(test, "exporter_secret", secrets.exporter_secret.span());
    ExpectHex(test, "authenticator", secrets.authenticator.span());

    const SecretBytes tag = ConfirmationTag(secrets.confirmation_key, context.confirmed_transcript_hash);
    ExpectHex(test, "confirmation_tag", tag.span());
    interim = InterimTranscriptHash(context.confirmed_transcript_hash, tag.span());
    ExpectHex(test, "interim_transcript_hash", interim);

    const Json& exported = test.at("export");
    ExpectHex(exported, "secret",
              Must(ExportSecret(secrets.exporter_secret, exported.at("label").get<std::string>(),
                                Hex(exported, "context"), exported.at("length")))
                  .span());
    init_secret = std::move(secrets.init_secret);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// One message of a message_protection case: its key and nonce, AAD and ciphertext.
void CheckMessage(const Json& group, const EpochMessageKeys& keys, const Json& message) {
  const LeafIndex sender = message.at("sender");
  const uint32_t generation = message.at("generation");
  SCOPED_TRACE(absl::StrCat("sender ", sender, ", generation ", generation));
  const StagedMessageKey staged = Must(keys.StageReceive(sender, generation));
  ExpectHex(message, "key", staged.key.key.span());
  ExpectHex(message, "nonce", staged.key.nonce.span());
  if (generation == 0) {
    // A fresh sender's first key is the one it sends with.
    const StagedMessageKey sent = Must(keys.StageSend(sender));
    ExpectHex(message, "key", sent.key.key.span());
    ExpectHex(message, "nonce", sent.key.nonce.span());
  }
  const SecretBytes nonce = ApplyReuseGuard(staged.key.nonce, Hex(message, "reuse_guard"));
  ExpectHex(message, "guarded_nonce", nonce.span());
  const Bytes aad = EncodeMessageAad(group.at("tenant_id").get<std::string>(),
                                     Hex(group, "group_id"), group.at("epoch"), sender,
                                     generation, message.at("content_type"));
  ExpectHex(message, "aad", aad);
  const Bytes plaintext = Hex(message, "plaintext");
  ExpectHex(message, "ciphertext",
            Must(Aes256GcmSeal(staged.key.key.span(), nonce.span(), aad, plaintext)));
  const SecretBytes opened =
      Must(Aes256GcmOpen(staged.key.key.span(), nonce.span(), aad, Hex(message, "ciphertext")));
  EXPECT_EQ(ToHex(opened.span()), ToHex(plaintext));
}

TEST(VectorsTest, MessageProtection) {
  const Json file = LoadVectorFile("message_protection");
  int checked = 0;
  for (const Json& group : file.at("cases")) {
    const EpochMessageKeys keys(group.at("leaf_count"),
                                SecretBytes(Hex(group, "application_secret")));
    for (const Json& message : group.at("messages")) {
      CheckMessage(group, keys, message);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace vectors
}  // namespace art
