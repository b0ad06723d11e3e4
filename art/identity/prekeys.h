// Signed prekeys (EK) and one-time prekeys (OPK): what a member publishes so that others can add it
// to a group while it is offline, and the bundle an adder fetches.
#ifndef ART_IDENTITY_PREKEYS_H_
#define ART_IDENTITY_PREKEYS_H_

#include <cstdint>
#include <map>
#include <optional>

#include "absl/status/statusor.h"
#include "api/art/v1/protocol.pb.h"
#include "art/crypto/x25519.h"
#include "art/identity/credential.h"

namespace art {

// Signs a signed prekey record for |public_key|.
absl::StatusOr<v1::SignedPrekey> SignSignedPrekey(const MemberIdentity& identity, uint32_t prekey_id,
                                                  uint64_t expiry_unix_seconds,
                                                  const X25519PublicKey& public_key);

// A one-time prekey record for |public_key|. One-time prekeys are not signed (as in X3DH): a service
// that substitutes one can only make the add fail (the member lacks the private key), which it could
// do anyway, while the leaf stays secret through the other four DH shares. Leaving them unsigned
// saves one Ed25519 verification per member in every setup.
v1::OneTimePrekey MakeOneTimePrekey(uint32_t prekey_id, const X25519PublicKey& public_key);

// Verifies a signed prekey under |owner|'s IKs; checks point validity and, when |now_unix_seconds| is
// non-zero, that it has not expired.
absl::StatusOr<X25519PublicKey> VerifySignedPrekey(const VerifiedCredential& owner,
                                                   const v1::SignedPrekey& prekey,
                                                   uint64_t now_unix_seconds);

// Checks a one-time prekey's point validity.
absl::StatusOr<X25519PublicKey> ParseOneTimePrekey(const v1::OneTimePrekey& prekey);

// A prekey bundle whose every signature has been checked.
struct VerifiedBundle {
  VerifiedCredential credential;
  uint32_t signed_prekey_id = 0;
  X25519PublicKey signed_prekey{};
  std::optional<uint32_t> one_time_prekey_id;
  X25519PublicKey one_time_prekey{};
};

absl::StatusOr<VerifiedBundle> VerifyPrekeyBundle(
    const v1::PrekeyBundle& bundle, std::string_view expected_tenant_id,
    absl::Span<const Ed25519PublicKey> trusted_tenant_keys, uint64_t now_unix_seconds);

// The prekey private keys a member holds, by id. Secret.
struct PrekeySecrets {
  std::map<uint32_t, X25519PrivateKey> signed_prekeys;
  std::map<uint32_t, X25519PrivateKey> one_time_prekeys;
};

}  // namespace art

#endif  // ART_IDENTITY_PREKEYS_H_
