#include "art/identity/prekeys.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/encoding/encoder.h"
#include "art/suite/labeled.h"
#include "art/wire/fields.h"

namespace art {
namespace {

// Signed prekeys are signed over (tenant, member, kind, id, expiry, key); the kind byte leaves room
// for other kinds of signed prekey under the same label.
enum class PrekeyKind : uint8_t { kSigned = 1 };

Bytes PrekeyContent(std::string_view tenant_id, std::string_view member_id, PrekeyKind kind,
                    uint32_t prekey_id, uint64_t expiry, ByteSpan public_key) {
  Encoder encoder;
  encoder.String(tenant_id)
      .String(member_id)
      .Uint8(static_cast<uint8_t>(kind))
      .Uint32(prekey_id)
      .Uint64(expiry)
      .Vector(public_key);
  return encoder.TakeBytes();
}

absl::Status VerifyPrekeySignature(const VerifiedCredential& owner, PrekeyKind kind,
                                   uint32_t prekey_id, uint64_t expiry, ByteSpan public_key,
                                   const std::string& signature, std::string_view field) {
  ART_RETURN_IF_ERROR(FixedBytes<kEd25519SignatureSize>(signature, field).status());
  Bytes content =
      PrekeyContent(owner.tenant_id, owner.member_id, kind, prekey_id, expiry, public_key);
  if (!VerifyWithLabel(owner.signing_key, "prekey", content, AsBytes(signature)).ok()) {
    return absl::PermissionDeniedError(absl::StrCat(std::string(field), " of prekey ", prekey_id, " for member \"",
                                                    owner.member_id, "\" does not verify"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::SignedPrekey> SignSignedPrekey(const MemberIdentity& identity, uint32_t prekey_id,
                                                  uint64_t expiry_unix_seconds,
                                                  const X25519PublicKey& public_key) {
  Bytes content = PrekeyContent(identity.credential.tenant_id(), identity.credential.member_id(),
                                PrekeyKind::kSigned, prekey_id, expiry_unix_seconds, public_key);
  ART_ASSIGN_OR_RETURN(Ed25519Signature signature,
                       SignWithLabel(identity.signing_key, "prekey", content));
  v1::SignedPrekey prekey;
  prekey.set_prekey_id(prekey_id);
  prekey.set_expiry_unix_seconds(expiry_unix_seconds);
  prekey.set_public_key(ToField(public_key));
  prekey.set_signature(ToField(signature));
  return prekey;
}

v1::OneTimePrekey MakeOneTimePrekey(uint32_t prekey_id, const X25519PublicKey& public_key) {
  v1::OneTimePrekey prekey;
  prekey.set_prekey_id(prekey_id);
  prekey.set_public_key(ToField(public_key));
  return prekey;
}

absl::StatusOr<X25519PublicKey> VerifySignedPrekey(const VerifiedCredential& owner,
                                                   const v1::SignedPrekey& prekey,
                                                   uint64_t now_unix_seconds) {
  ART_ASSIGN_OR_RETURN(X25519PublicKey key,
                       ParseX25519PublicKey(prekey.public_key(), "signed_prekey.public_key"));
  ART_RETURN_IF_ERROR(VerifyPrekeySignature(owner, PrekeyKind::kSigned, prekey.prekey_id(),
                                            prekey.expiry_unix_seconds(), key, prekey.signature(),
                                            "signed_prekey.signature"));
  if (now_unix_seconds != 0 && prekey.expiry_unix_seconds() <= now_unix_seconds) {
    return absl::FailedPreconditionError(absl::StrCat("signed prekey ", prekey.prekey_id(),
                                                      " of member \"", owner.member_id,
                                                      "\" has expired"));
  }
  return key;
}

absl::StatusOr<X25519PublicKey> ParseOneTimePrekey(const v1::OneTimePrekey& prekey) {
  return ParseX25519PublicKey(prekey.public_key(), "one_time_prekey.public_key");
}

absl::StatusOr<VerifiedBundle> VerifyPrekeyBundle(
    const v1::PrekeyBundle& bundle, std::string_view expected_tenant_id,
    absl::Span<const Ed25519PublicKey> trusted_tenant_keys, uint64_t now_unix_seconds) {
  VerifiedBundle verified;
  ART_ASSIGN_OR_RETURN(verified.credential, VerifyCredential(bundle.credential(), expected_tenant_id,
                                                             trusted_tenant_keys));
  if (!bundle.has_signed_prekey()) {
    return absl::InvalidArgumentError("prekey bundle has no signed_prekey");
  }
  verified.signed_prekey_id = bundle.signed_prekey().prekey_id();
  ART_ASSIGN_OR_RETURN(verified.signed_prekey, VerifySignedPrekey(verified.credential,
                                                                  bundle.signed_prekey(),
                                                                  now_unix_seconds));
  if (bundle.has_one_time_prekey()) {
    verified.one_time_prekey_id = bundle.one_time_prekey().prekey_id();
    ART_ASSIGN_OR_RETURN(verified.one_time_prekey, ParseOneTimePrekey(bundle.one_time_prekey()));
  }
  return verified;
}

}  // namespace art
