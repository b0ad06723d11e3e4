#include "art/requests/request_signature.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/crypto/hash.h"
#include "art/crypto/random.h"
#include "art/encoding/encoder.h"
#include "art/identity/credential.h"
#include "art/protocol/encodings.h"
#include "art/suite/labeled.h"
#include "art/wire/fields.h"

namespace art {
namespace {

Sha256Digest Digest(const Encoder& encoder) { return Sha256(encoder.bytes()); }

Bytes AuthContent(std::string_view tenant_id, std::string_view method, std::string_view member_id,
                  uint64_t timestamp, ByteSpan nonce, const Sha256Digest& digest) {
  Encoder encoder;
  encoder.String(tenant_id).String(method).String(member_id).Uint64(timestamp).Vector(nonce).Raw(digest);
  return encoder.TakeBytes();
}

}  // namespace

Sha256Digest RequestDigest(const v1::PublishIdentityRequest& request) {
  Encoder encoder;
  EncodeCredential(request.credential(), encoder);
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::UploadPrekeysRequest& request) {
  Encoder encoder;
  encoder.String(request.member_id()).Bool(request.has_signed_prekey());
  const v1::SignedPrekey& signed_prekey = request.signed_prekey();
  encoder.Uint32(signed_prekey.prekey_id())
      .Uint64(signed_prekey.expiry_unix_seconds())
      .Vector(AsBytes(signed_prekey.public_key()))
      .Vector(AsBytes(signed_prekey.signature()));
  encoder.Uint32(static_cast<uint32_t>(request.one_time_prekeys_size()));
  for (const v1::OneTimePrekey& prekey : request.one_time_prekeys()) {
    encoder.Uint32(prekey.prekey_id()).Vector(AsBytes(prekey.public_key()));
  }
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::CreateGroupRequest& request) {
  // The Setup's own signature covers its canonical content (and strict Ed25519 signatures cannot be
  // altered), so the digest binds to it and to the tag.
  Encoder encoder;
  encoder.Vector(AsBytes(request.setup().group_id()))
      .Vector(AsBytes(request.setup().signature()))
      .Vector(AsBytes(request.setup().confirmation_tag()));
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::SubmitCommitRequest& request) {
  Encoder encoder;
  encoder.Vector(AsBytes(request.commit().group_id()))
      .Uint64(request.commit().epoch())
      .Vector(AsBytes(request.commit().signature()))
      .Vector(AsBytes(request.commit().confirmation_tag()))
      .Bool(request.has_welcome());
  if (request.has_welcome()) {
    encoder.Vector(EncodeWelcomeHeader(request.welcome())).Vector(AsBytes(request.welcome().ciphertext()));
  }
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::ReportAlarmRequest& request) {
  Encoder encoder;
  encoder.Vector(AsBytes(request.commit().group_id()))
      .Uint64(request.commit().epoch())
      .Vector(AsBytes(request.commit().signature()))
      .Vector(AsBytes(request.commit().confirmation_tag()))
      .Uint32(static_cast<uint32_t>(request.reason()))
      .String(request.detail())
      .Uint32(request.reporter_leaf());
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::PostMessageRequest& request) {
  const v1::ApplicationMessage& message = request.message();
  Encoder encoder;
  encoder.Vector(AsBytes(message.group_id()))
      .Uint64(message.epoch())
      .Uint32(message.sender_leaf())
      .Uint32(message.generation())
      .Uint32(message.content_type())
      .Vector(AsBytes(message.reuse_guard()))
      .Vector(AsBytes(message.ciphertext()));
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::FetchWelcomesRequest& request) {
  Encoder encoder;
  encoder.String(request.member_id());
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::AckWelcomeRequest& request) {
  Encoder encoder;
  encoder.String(request.member_id()).Uint64(request.welcome_id());
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::PutStateRequest& request) {
  Encoder encoder;
  encoder.String(request.member_id())
      .String(request.name())
      .Uint64(request.expected_version())
      .Raw(Sha256(AsBytes(request.ciphertext())));
  return Digest(encoder);
}

Sha256Digest RequestDigest(const v1::GetStateRequest& request) {
  Encoder encoder;
  encoder.String(request.member_id()).String(request.name());
  return Digest(encoder);
}

absl::StatusOr<v1::MemberAuth> SignRequest(const Ed25519PrivateKey& signing_key, std::string_view tenant_id,
                                           std::string_view method, std::string_view member_id,
                                           const Sha256Digest& digest, uint64_t timestamp_unix_millis) {
  std::array<uint8_t, kRequestNonceSize> nonce;
  ART_RETURN_IF_ERROR(RandomFill(absl::MakeSpan(nonce)));
  ART_ASSIGN_OR_RETURN(Ed25519Signature signature,
                       SignWithLabel(signing_key, "request",
                                     AuthContent(tenant_id, method, member_id, timestamp_unix_millis,
                                                 nonce, digest)));
  v1::MemberAuth auth;
  auth.set_member_id(std::string(member_id));
  auth.set_timestamp_unix_millis(timestamp_unix_millis);
  auth.set_nonce(ToField(nonce));
  auth.set_signature(ToField(signature));
  return auth;
}

absl::Status VerifyRequestSignature(const v1::MemberAuth& auth, const Ed25519PublicKey& signing_key,
                                    std::string_view tenant_id, std::string_view method,
                                    const Sha256Digest& digest) {
  ART_RETURN_IF_ERROR(FixedBytes<kRequestNonceSize>(auth.nonce(), "auth.nonce").status());
  ART_RETURN_IF_ERROR(FixedBytes<kEd25519SignatureSize>(auth.signature(), "auth.signature").status());
  const Bytes content = AuthContent(tenant_id, method, auth.member_id(), auth.timestamp_unix_millis(),
                                    AsBytes(auth.nonce()), digest);
  if (!VerifyWithLabel(signing_key, "request", content, AsBytes(auth.signature())).ok()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "auth.signature does not verify under the identity key of member \"", auth.member_id(),
        "\" for this request"));
  }
  return absl::OkStatus();
}

}  // namespace art
