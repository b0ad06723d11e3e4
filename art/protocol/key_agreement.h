// The Diffie-Hellman agreement that keys a member's leaf at setup or when it is added, and the
// Welcome that lets an added member in. The creator (or adder) combines its identity key and a fresh
// ephemeral key (SUK at setup) with the member's identity key, signed prekey and optional one-time
// prekey:
//   DHs = X25519(ik_c, IKd_j) || X25519(ik_c, EK_j) || X25519(suk, IKd_j) || X25519(suk, EK_j)
//         [|| X25519(suk, OPK_j)]
//   prk = HKDF-Extract("", DHs)
//   leaf_j = ExpandWithLabel(prk, "leaf", H(encode(suite, tenant, group_id, j, cred_hash_c,
//                            cred_hash_j, SUK, EK id, OPK id)), 32)
// and, for a Welcome, key and nonce = ExpandWithLabel(prk, "welcome" | "welcome nonce", header, ...),
// kept apart from the leaf by their labels.
#ifndef ART_PROTOCOL_KEY_AGREEMENT_H_
#define ART_PROTOCOL_KEY_AGREEMENT_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"
#include "art/crypto/x25519.h"
#include "art/identity/prekeys.h"

namespace art {

// The sender's side: |sender_identity| is ik_c (or the adder's IKd key), |ephemeral| is suk.
absl::StatusOr<SecretBytes> SenderKeyAgreement(const X25519PrivateKey& sender_identity,
                                               const X25519PrivateKey& ephemeral,
                                               const X25519PublicKey& receiver_identity,
                                               const X25519PublicKey& receiver_signed_prekey,
                                               const X25519PublicKey* receiver_one_time_prekey);

// The receiver's side of the same agreement.
absl::StatusOr<SecretBytes> ReceiverKeyAgreement(const X25519PrivateKey& identity,
                                                 const X25519PrivateKey& signed_prekey,
                                                 const X25519PrivateKey* one_time_prekey,
                                                 const X25519PublicKey& sender_identity,
                                                 const X25519PublicKey& ephemeral);

// What a derived leaf secret is bound to.
struct LeafContext {
  std::string_view tenant_id;
  ByteSpan group_id;
  uint32_t leaf = 0;
  Sha256Digest sender_credential_hash{};
  Sha256Digest receiver_credential_hash{};
  X25519PublicKey ephemeral{};
  uint32_t signed_prekey_id = 0;
  std::optional<uint32_t> one_time_prekey_id;
};

// leaf_j from the agreement's pseudorandom key, as an X25519 key pair.
absl::StatusOr<X25519PrivateKey> DeriveLeafKey(const SecretBytes& agreement_key,
                                               const LeafContext& context);

}  // namespace art

#endif  // ART_PROTOCOL_KEY_AGREEMENT_H_
