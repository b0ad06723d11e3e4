// The epoch key schedule and transcript hashes (RFC 9420 section 8 adapted to ART).
//
//   confirmed_e   = H(interim_{e-1} || commit_e without its tag)      interim_{-1} = 0^32
//   tag_e         = HMAC(confirm_key_e, confirmed_e)
//   interim_e     = H(confirmed_e || tag_e)
//   tree_key_e    = ExpandWithLabel(root_secret_e, "tree key", "", 32)
//   epoch_secret_e = ExpandWithLabel(HKDF-Extract(init_{e-1}, tree_key_e), "epoch",
//                      encode(suite, tenant, group_id, e, tree_hash_e, confirmed_e), 32)
//   init_e, confirm_key_e, application_secret_e, exporter_secret_e, authenticator_e
//                 = ExpandWithLabel(epoch_secret_e, "init" | "confirm" | "application" |
//                                   "exporter" | "authenticator", "", 32)                init_{-1} = 0^32
#ifndef ART_SCHEDULE_KEY_SCHEDULE_H_
#define ART_SCHEDULE_KEY_SCHEDULE_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"

namespace art {

// The secrets of one epoch. The epoch secret itself is wiped once these are derived.
struct EpochSecrets {
  SecretBytes init_secret;         // Feeds the next epoch.
  SecretBytes confirmation_key;    // MACs this epoch's commit.
  SecretBytes application_secret;  // Root of the per-sender message chains.
  SecretBytes exporter_secret;     // For keys the application derives (Export).
  // A value all members of the epoch share and may compare openly (it reveals nothing of the other
  // secrets): tests and applications use it to check agreement.
  SecretBytes authenticator;
};

// What the epoch secret is bound to.
struct EpochContext {
  std::string_view tenant_id;
  ByteSpan group_id;
  uint64_t epoch = 0;
  Sha256Digest tree_hash{};
  Sha256Digest confirmed_transcript_hash{};
};

// 32 zero bytes: init_{-1} and interim_{-1}.
SecretBytes ZeroSecret();

// tree_key_e from the root's X25519 scalar.
absl::StatusOr<SecretBytes> DeriveTreeKey(const SecretBytes& root_secret);

// Runs the schedule for one epoch.
absl::StatusOr<EpochSecrets> DeriveEpochSecrets(const SecretBytes& previous_init_secret,
                                                const SecretBytes& tree_key,
                                                const EpochContext& context);

// confirmed_e = H(interim_{e-1} || commit_without_tag).
Sha256Digest ConfirmedTranscriptHash(const Sha256Digest& previous_interim,
                                     ByteSpan commit_without_tag);

// tag_e = HMAC(confirm_key_e, confirmed_e).
SecretBytes ConfirmationTag(const SecretBytes& confirmation_key, const Sha256Digest& confirmed);

// interim_e = H(confirmed_e || tag_e).
Sha256Digest InterimTranscriptHash(const Sha256Digest& confirmed, ByteSpan confirmation_tag);

// An exported secret: ExpandWithLabel(ExpandWithLabel(exporter, label, "", 32), "exported",
// H(context), length).
absl::StatusOr<SecretBytes> ExportSecret(const SecretBytes& exporter_secret, std::string_view label,
                                         ByteSpan context, size_t length);

}  // namespace art

#endif  // ART_SCHEDULE_KEY_SCHEDULE_H_
