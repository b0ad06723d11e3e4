#include "art/identity/credential.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/crypto/hash.h"
#include "art/encoding/encoder.h"
#include "art/suite/labeled.h"
#include "art/wire/fields.h"

namespace art {
namespace {

// What the tenant signs: (tenant, member id, IKs).
Bytes CredentialContent(const v1::Credential& credential) {
  Encoder encoder;
  encoder.String(credential.tenant_id())
      .String(credential.member_id())
      .Vector(AsBytes(credential.identity_signing_key()));
  return encoder.TakeBytes();
}

// What IKs signs to bind IKd: (tenant, member id, IKs, IKd).
Bytes IdentityDhKeyContent(const v1::Credential& credential) {
  Encoder encoder;
  encoder.String(credential.tenant_id())
      .String(credential.member_id())
      .Vector(AsBytes(credential.identity_signing_key()))
      .Vector(AsBytes(credential.identity_dh_key()));
  return encoder.TakeBytes();
}

}  // namespace

absl::StatusOr<MemberIdentity> GenerateMemberIdentity(std::string_view tenant_id,
                                                      std::string_view member_id) {
  if (member_id.empty()) return absl::InvalidArgumentError("member_id must not be empty");
  ART_ASSIGN_OR_RETURN(Ed25519PrivateKey signing_key, Ed25519PrivateKey::Generate());
  ART_ASSIGN_OR_RETURN(X25519PrivateKey dh_key, X25519PrivateKey::Generate());
  v1::Credential credential;
  credential.set_tenant_id(std::string(tenant_id));
  credential.set_member_id(std::string(member_id));
  credential.set_identity_signing_key(ToField(signing_key.public_key()));
  credential.set_identity_dh_key(ToField(dh_key.public_key()));
  ART_ASSIGN_OR_RETURN(Ed25519Signature dh_key_signature,
                       SignWithLabel(signing_key, "identity dh key", IdentityDhKeyContent(credential)));
  credential.set_identity_dh_key_signature(ToField(dh_key_signature));
  return MemberIdentity{std::move(signing_key), std::move(dh_key), std::move(credential)};
}

absl::Status CertifyCredential(const Ed25519PrivateKey& tenant_credential_key,
                               v1::Credential* credential) {
  ART_ASSIGN_OR_RETURN(Ed25519Signature signature,
                       SignWithLabel(tenant_credential_key, "credential", CredentialContent(*credential)));
  credential->set_tenant_signature(ToField(signature));
  return absl::OkStatus();
}

void EncodeCredential(const v1::Credential& credential, Encoder& encoder) {
  encoder.String(credential.tenant_id())
      .String(credential.member_id())
      .Vector(AsBytes(credential.identity_signing_key()))
      .Vector(AsBytes(credential.identity_dh_key()))
      .Vector(AsBytes(credential.identity_dh_key_signature()))
      .Vector(AsBytes(credential.tenant_signature()));
}

Sha256Digest CredentialHash(const v1::Credential& credential) {
  Encoder encoder;
  EncodeCredential(credential, encoder);
  return Sha256(encoder.bytes());
}

absl::StatusOr<VerifiedCredential> VerifyCredential(
    const v1::Credential& credential, std::string_view expected_tenant_id,
    absl::Span<const Ed25519PublicKey> trusted_tenant_keys) {
  if (credential.tenant_id() != expected_tenant_id) {
    return absl::InvalidArgumentError(absl::StrCat("credential.tenant_id \"", credential.tenant_id(),
                                                   "\" is not \"", std::string(expected_tenant_id), "\""));
  }
  if (credential.member_id().empty() || credential.member_id().size() > 256) {
    return absl::InvalidArgumentError("credential.member_id must be 1 to 256 bytes");
  }
  VerifiedCredential verified;
  ART_ASSIGN_OR_RETURN(verified.signing_key, ParseEd25519PublicKey(credential.identity_signing_key(),
                                                                   "credential.identity_signing_key"));
  ART_ASSIGN_OR_RETURN(verified.dh_key,
                       ParseX25519PublicKey(credential.identity_dh_key(), "credential.identity_dh_key"));
  ART_RETURN_IF_ERROR(FixedBytes<kEd25519SignatureSize>(credential.identity_dh_key_signature(),
                                                        "credential.identity_dh_key_signature")
                          .status());
  absl::Status dh_signature =
      VerifyWithLabel(verified.signing_key, "identity dh key", IdentityDhKeyContent(credential),
                      AsBytes(credential.identity_dh_key_signature()));
  if (!dh_signature.ok()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "credential.identity_dh_key_signature does not verify under identity_signing_key for member \"",
        credential.member_id(), "\""));
  }
  if (!trusted_tenant_keys.empty()) {
    ART_RETURN_IF_ERROR(FixedBytes<kEd25519SignatureSize>(credential.tenant_signature(),
                                                          "credential.tenant_signature")
                            .status());
    Bytes content = CredentialContent(credential);
    bool trusted = false;
    for (const Ed25519PublicKey& tenant_key : trusted_tenant_keys) {
      if (VerifyWithLabel(tenant_key, "credential", content, AsBytes(credential.tenant_signature()))
              .ok()) {
        trusted = true;
        break;
      }
    }
    if (!trusted) {
      return absl::PermissionDeniedError(absl::StrCat(
          "credential.tenant_signature for member \"", credential.member_id(),
          "\" does not verify under any trusted tenant credential key"));
    }
  }
  verified.tenant_id = credential.tenant_id();
  verified.member_id = credential.member_id();
  verified.hash = CredentialHash(credential);
  return verified;
}

}  // namespace art
