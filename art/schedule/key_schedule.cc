#include "art/schedule/key_schedule.h"

#include "art/base/status_macros.h"
#include "art/crypto/hash.h"
#include "art/encoding/encoder.h"
#include "art/suite/labeled.h"

namespace art {

SecretBytes ZeroSecret() { return SecretBytes(kSecretSize); }

absl::StatusOr<SecretBytes> DeriveTreeKey(const SecretBytes& root_secret) {
  return ExpandWithLabel(root_secret.span(), "tree key", {}, kSecretSize);
}

absl::StatusOr<EpochSecrets> DeriveEpochSecrets(const SecretBytes& previous_init_secret,
                                                const SecretBytes& tree_key,
                                                const EpochContext& context) {
  SecretBytes joiner = HkdfExtract(previous_init_secret.span(), tree_key.span());
  Encoder epoch_context;
  epoch_context.Uint16(kCipherSuite)
      .String(context.tenant_id)
      .Vector(context.group_id)
      .Uint64(context.epoch)
      .Raw(context.tree_hash)
      .Raw(context.confirmed_transcript_hash);
  ART_ASSIGN_OR_RETURN(SecretBytes epoch_secret,
                       ExpandWithLabel(joiner.span(), "epoch", epoch_context.bytes(), kSecretSize));
  EpochSecrets secrets;
  ART_ASSIGN_OR_RETURN(secrets.init_secret,
                       ExpandWithLabel(epoch_secret.span(), "init", {}, kSecretSize));
  ART_ASSIGN_OR_RETURN(secrets.confirmation_key,
                       ExpandWithLabel(epoch_secret.span(), "confirm", {}, kSecretSize));
  ART_ASSIGN_OR_RETURN(secrets.application_secret,
                       ExpandWithLabel(epoch_secret.span(), "application", {}, kSecretSize));
  ART_ASSIGN_OR_RETURN(secrets.exporter_secret,
                       ExpandWithLabel(epoch_secret.span(), "exporter", {}, kSecretSize));
  ART_ASSIGN_OR_RETURN(secrets.authenticator,
                       ExpandWithLabel(epoch_secret.span(), "authenticator", {}, kSecretSize));
  return secrets;
}

Sha256Digest ConfirmedTranscriptHash(const Sha256Digest& previous_interim,
                                     ByteSpan commit_without_tag) {
  Encoder encoder;
  encoder.Raw(previous_interim).Raw(commit_without_tag);
  return Sha256(encoder.bytes());
}

SecretBytes ConfirmationTag(const SecretBytes& confirmation_key, const Sha256Digest& confirmed) {
  return HmacSha256(confirmation_key.span(), confirmed);
}

Sha256Digest InterimTranscriptHash(const Sha256Digest& confirmed, ByteSpan confirmation_tag) {
  Encoder encoder;
  encoder.Raw(confirmed).Raw(confirmation_tag);
  return Sha256(encoder.bytes());
}

absl::StatusOr<SecretBytes> ExportSecret(const SecretBytes& exporter_secret, std::string_view label,
                                         ByteSpan context, size_t length) {
  ART_ASSIGN_OR_RETURN(SecretBytes derived,
                       ExpandWithLabel(exporter_secret.span(), label, {}, kSecretSize));
  Sha256Digest context_hash = Sha256(context);
  return ExpandWithLabel(derived.span(), "exported", context_hash, length);
}

}  // namespace art
