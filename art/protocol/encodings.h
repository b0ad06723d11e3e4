// The canonical encodings that the protocol signs, hashes, MACs and authenticates (never protobuf
// bytes). docs/protocol.md lists each field sequence.
#ifndef ART_PROTOCOL_ENCODINGS_H_
#define ART_PROTOCOL_ENCODINGS_H_

#include <string_view>

#include "api/art/v1/protocol.pb.h"
#include "art/crypto/bytes.h"

namespace art {

// Commit body types as encoded.
enum class CommitType : uint8_t { kUpdate = 1, kAdd = 2, kRemove = 3 };

// What the creator signs in a Setup:
// encode(suite, tenant, group_id, n, members..., SUK, node keys..., tree_hash).
Bytes EncodeSetupContent(std::string_view tenant_id, const v1::Setup& setup);

// The Setup "without its tag" that enters the transcript: content || signature.
Bytes EncodeSetupWithoutTag(std::string_view tenant_id, const v1::Setup& setup);

// What the signer signs in a Commit: encode(suite, tenant, group_id, e, tree_hash_e, interim_e,
// signer leaf, type, body, new tree_hash).
Bytes EncodeCommitContent(std::string_view tenant_id, const v1::Commit& commit,
                          const Sha256Digest& tree_hash, const Sha256Digest& interim_hash);

// content || signature: the commit "without its tag" of the transcript.
Bytes EncodeCommitWithoutTag(std::string_view tenant_id, const v1::Commit& commit,
                             const Sha256Digest& tree_hash, const Sha256Digest& interim_hash);

// H(content || signature || tag): what a Welcome names its commit by.
Sha256Digest CommitHash(std::string_view tenant_id, const v1::Commit& commit,
                        const Sha256Digest& tree_hash, const Sha256Digest& interim_hash);

// The Welcome header, used as AEAD additional data and key-derivation context:
// encode(tenant, group_id, epoch, adder leaf, new leaf, ephemeral, EK id, OPK id, commit hash).
Bytes EncodeWelcomeHeader(const v1::Welcome& welcome);

// The additional data of an application message:
// encode(suite, tenant, group_id, epoch, sender leaf, generation, content type).
Bytes EncodeMessageAad(std::string_view tenant_id, ByteSpan group_id, uint64_t epoch,
                       uint32_t sender_leaf, uint32_t generation, uint32_t content_type);

}  // namespace art

#endif  // ART_PROTOCOL_ENCODINGS_H_
