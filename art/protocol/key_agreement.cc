#include "art/protocol/key_agreement.h"

#include "art/base/status_macros.h"
#include "art/crypto/hash.h"
#include "art/encoding/encoder.h"
#include "art/suite/labeled.h"

namespace art {
namespace {

// Concatenates the DH outputs into a buffer that is wiped, then extracts.
absl::StatusOr<SecretBytes> ExtractFromShares(
    std::initializer_list<std::pair<const X25519PrivateKey*, const X25519PublicKey*>> shares) {
  Encoder concatenation;
  for (const auto& [private_key, public_key] : shares) {
    if (private_key == nullptr || public_key == nullptr) continue;
    ART_ASSIGN_OR_RETURN(SecretBytes shared, private_key->Agree(*public_key));
    concatenation.Raw(shared.span());
  }
  SecretBytes input = concatenation.TakeSecret();
  return HkdfExtract({}, input.span());
}

}  // namespace

absl::StatusOr<SecretBytes> SenderKeyAgreement(const X25519PrivateKey& sender_identity,
                                               const X25519PrivateKey& ephemeral,
                                               const X25519PublicKey& receiver_identity,
                                               const X25519PublicKey& receiver_signed_prekey,
                                               const X25519PublicKey* receiver_one_time_prekey) {
  return ExtractFromShares({{&sender_identity, &receiver_identity},
                            {&sender_identity, &receiver_signed_prekey},
                            {&ephemeral, &receiver_identity},
                            {&ephemeral, &receiver_signed_prekey},
                            {&ephemeral, receiver_one_time_prekey}});
}

absl::StatusOr<SecretBytes> ReceiverKeyAgreement(const X25519PrivateKey& identity,
                                                 const X25519PrivateKey& signed_prekey,
                                                 const X25519PrivateKey* one_time_prekey,
                                                 const X25519PublicKey& sender_identity,
                                                 const X25519PublicKey& ephemeral) {
  return ExtractFromShares({{&identity, &sender_identity},
                            {&signed_prekey, &sender_identity},
                            {&identity, &ephemeral},
                            {&signed_prekey, &ephemeral},
                            {one_time_prekey, one_time_prekey ? &ephemeral : nullptr}});
}

absl::StatusOr<X25519PrivateKey> DeriveLeafKey(const SecretBytes& agreement_key,
                                               const LeafContext& context) {
  Encoder encoder;
  encoder.Uint16(kCipherSuite)
      .String(context.tenant_id)
      .Vector(context.group_id)
      .Uint32(context.leaf)
      .Raw(context.sender_credential_hash)
      .Raw(context.receiver_credential_hash)
      .Raw(context.ephemeral)
      .Uint32(context.signed_prekey_id)
      .Bool(context.one_time_prekey_id.has_value())
      .Uint32(context.one_time_prekey_id.value_or(0));
  Sha256Digest context_hash = Sha256(encoder.bytes());
  ART_ASSIGN_OR_RETURN(SecretBytes leaf_secret,
                       ExpandWithLabel(agreement_key.span(), "leaf", context_hash, kSecretSize));
  return X25519PrivateKey::FromSecret(leaf_secret.span());
}

}  // namespace art
