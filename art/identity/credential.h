// Member identities and the credentials a tenant issues for them.
//
// A member has an Ed25519 identity signing key IKs and an X25519 identity key IKd signed by IKs. The
// tenant, acting as the authentication service, signs (tenant, member id, IKs) with its credential key;
// clients trust only identities that carry such a signature under a key they were configured with.
#ifndef ART_IDENTITY_CREDENTIAL_H_
#define ART_IDENTITY_CREDENTIAL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "api/art/v1/protocol.pb.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/x25519.h"
#include "art/encoding/encoder.h"

namespace art {

// The parts of a credential a group needs after it has been verified.
struct VerifiedCredential {
  std::string tenant_id;
  std::string member_id;
  Ed25519PublicKey signing_key{};  // IKs
  X25519PublicKey dh_key{};        // IKd
  Sha256Digest hash{};             // cred_hash
};

// A member's identity key pairs and its credential. Secret; lives only on the member's device.
struct MemberIdentity {
  Ed25519PrivateKey signing_key;
  X25519PrivateKey dh_key;
  v1::Credential credential;
};

// Creates fresh identity keys for |member_id| and an uncertified credential (the IKd signature is
// filled in; the tenant signature is not).
absl::StatusOr<MemberIdentity> GenerateMemberIdentity(std::string_view tenant_id,
                                                      std::string_view member_id);

// The tenant's act of certifying |credential|: fills in its tenant_signature.
absl::Status CertifyCredential(const Ed25519PrivateKey& tenant_credential_key,
                               v1::Credential* credential);

// Appends the canonical encoding of every field of |credential| (in field order) to |encoder|.
void EncodeCredential(const v1::Credential& credential, Encoder& encoder);

// cred_hash = SHA-256(encode(tenant, member id, IKs, IKd, IKd signature, tenant signature)).
Sha256Digest CredentialHash(const v1::Credential& credential);

// Checks sizes, point validity and the IKd signature by IKs, and, when |trusted_tenant_keys| is not
// empty, that the tenant signature verifies under one of them. The service calls it with the keys the
// tenant registered (or none, checking only what binds IKd to IKs); clients always pass their trust
// anchors. |expected_tenant_id| must match. Errors are INVALID_ARGUMENT naming the field, or
// PERMISSION_DENIED for a signature that does not verify.
absl::StatusOr<VerifiedCredential> VerifyCredential(
    const v1::Credential& credential, std::string_view expected_tenant_id,
    absl::Span<const Ed25519PublicKey> trusted_tenant_keys);

}  // namespace art

#endif  // ART_IDENTITY_CREDENTIAL_H_
