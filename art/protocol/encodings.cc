#include "art/protocol/encodings.h"

#include "art/crypto/hash.h"
#include "art/encoding/encoder.h"
#include "art/identity/credential.h"
#include "art/suite/labeled.h"

namespace art {
namespace {

void EncodePath(const v1::PathKeys& path, Encoder& encoder) {
  encoder.Uint32(static_cast<uint32_t>(path.public_keys_size()));
  for (const std::string& key : path.public_keys()) encoder.Vector(AsBytes(key));
}

void EncodePrekeyChoice(uint32_t signed_prekey_id, bool has_one_time_prekey,
                        uint32_t one_time_prekey_id, Encoder& encoder) {
  encoder.Uint32(signed_prekey_id).Bool(has_one_time_prekey);
  encoder.Uint32(has_one_time_prekey ? one_time_prekey_id : 0);
}

void EncodeCommitContentTo(std::string_view tenant_id, const v1::Commit& commit,
                           const Sha256Digest& tree_hash, const Sha256Digest& interim_hash,
                           Encoder& encoder) {
  encoder.Uint16(kCipherSuite)
      .String(tenant_id)
      .Vector(AsBytes(commit.group_id()))
      .Uint64(commit.epoch())
      .Raw(tree_hash)
      .Raw(interim_hash)
      .Uint32(commit.signer_leaf());
  switch (commit.body_case()) {
    case v1::Commit::kUpdate:
      encoder.Uint8(static_cast<uint8_t>(CommitType::kUpdate));
      EncodePath(commit.update().path(), encoder);
      break;
    case v1::Commit::kAdd: {
      const v1::AddBody& add = commit.add();
      encoder.Uint8(static_cast<uint8_t>(CommitType::kAdd));
      EncodeCredential(add.credential(), encoder);
      EncodePrekeyChoice(add.signed_prekey_id(), add.has_one_time_prekey(),
                         add.one_time_prekey_id(), encoder);
      encoder.Vector(AsBytes(add.ephemeral_public_key())).Uint32(add.new_leaf());
      EncodePath(add.path(), encoder);
      break;
    }
    case v1::Commit::kRemove:
      encoder.Uint8(static_cast<uint8_t>(CommitType::kRemove));
      encoder.Uint32(commit.remove().removed_leaf())
          .Vector(AsBytes(commit.remove().removed_credential_hash()));
      EncodePath(commit.remove().path(), encoder);
      break;
    case v1::Commit::BODY_NOT_SET:
      encoder.Uint8(0);
      break;
  }
  encoder.Vector(AsBytes(commit.new_tree_hash()));
}

void EncodeSetupContentTo(std::string_view tenant_id, const v1::Setup& setup, Encoder& encoder) {
  encoder.Uint16(kCipherSuite).String(tenant_id).Vector(AsBytes(setup.group_id()));
  encoder.Uint32(static_cast<uint32_t>(setup.members_size()));
  for (const v1::SetupMember& member : setup.members()) {
    EncodeCredential(member.credential(), encoder);
    EncodePrekeyChoice(member.signed_prekey_id(), member.has_one_time_prekey(),
                       member.one_time_prekey_id(), encoder);
  }
  encoder.Vector(AsBytes(setup.setup_public_key()));
  encoder.Uint32(static_cast<uint32_t>(setup.node_public_keys_size()));
  for (const std::string& key : setup.node_public_keys()) encoder.Vector(AsBytes(key));
  encoder.Vector(AsBytes(setup.tree_hash()));
}

}  // namespace

Bytes EncodeSetupContent(std::string_view tenant_id, const v1::Setup& setup) {
  Encoder encoder;
  EncodeSetupContentTo(tenant_id, setup, encoder);
  return encoder.TakeBytes();
}

Bytes EncodeSetupWithoutTag(std::string_view tenant_id, const v1::Setup& setup) {
  Encoder encoder;
  EncodeSetupContentTo(tenant_id, setup, encoder);
  encoder.Vector(AsBytes(setup.signature()));
  return encoder.TakeBytes();
}

Bytes EncodeCommitContent(std::string_view tenant_id, const v1::Commit& commit,
                          const Sha256Digest& tree_hash, const Sha256Digest& interim_hash) {
  Encoder encoder;
  EncodeCommitContentTo(tenant_id, commit, tree_hash, interim_hash, encoder);
  return encoder.TakeBytes();
}

Bytes EncodeCommitWithoutTag(std::string_view tenant_id, const v1::Commit& commit,
                             const Sha256Digest& tree_hash, const Sha256Digest& interim_hash) {
  Encoder encoder;
  EncodeCommitContentTo(tenant_id, commit, tree_hash, interim_hash, encoder);
  encoder.Vector(AsBytes(commit.signature()));
  return encoder.TakeBytes();
}

Sha256Digest CommitHash(std::string_view tenant_id, const v1::Commit& commit,
                        const Sha256Digest& tree_hash, const Sha256Digest& interim_hash) {
  Encoder encoder;
  EncodeCommitContentTo(tenant_id, commit, tree_hash, interim_hash, encoder);
  encoder.Vector(AsBytes(commit.signature())).Vector(AsBytes(commit.confirmation_tag()));
  return Sha256(encoder.bytes());
}

Bytes EncodeWelcomeHeader(const v1::Welcome& welcome) {
  Encoder encoder;
  encoder.Uint16(kCipherSuite)
      .String(welcome.tenant_id())
      .Vector(AsBytes(welcome.group_id()))
      .Uint64(welcome.epoch())
      .Uint32(welcome.adder_leaf())
      .Uint32(welcome.new_leaf())
      .Vector(AsBytes(welcome.ephemeral_public_key()));
  EncodePrekeyChoice(welcome.signed_prekey_id(), welcome.has_one_time_prekey(),
                     welcome.one_time_prekey_id(), encoder);
  encoder.Vector(AsBytes(welcome.commit_hash()));
  return encoder.TakeBytes();
}

Bytes EncodeMessageAad(std::string_view tenant_id, ByteSpan group_id, uint64_t epoch,
                       uint32_t sender_leaf, uint32_t generation, uint32_t content_type) {
  Encoder encoder;
  encoder.Uint16(kCipherSuite)
      .String(tenant_id)
      .Vector(group_id)
      .Uint64(epoch)
      .Uint32(sender_leaf)
      .Uint32(generation)
      .Uint32(content_type);
  return encoder.TakeBytes();
}

}  // namespace art
