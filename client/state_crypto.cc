#include "client/state_crypto.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/crypto/aead.h"
#include "art/crypto/random.h"
#include "art/encoding/encoder.h"

namespace artd::client {
namespace {

art::Bytes StateAdditionalData(const std::string& name, uint64_t version) {
  art::Encoder encoder;
  encoder.String("artd client state").String(name).Uint64(version);
  return encoder.TakeBytes();
}

}  // namespace

absl::Status CheckStateKey(const art::SecretBytes& key) {
  if (key.size() != art::kAes256GcmKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("the state key must be ", art::kAes256GcmKeySize, " bytes, not ", key.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<art::Bytes> SealState(const art::SecretBytes& key, const std::string& name, uint64_t version,
                                     const art::SecretBytes& plaintext) {
  art::Bytes nonce(art::kAes256GcmNonceSize);
  ART_RETURN_IF_ERROR(art::RandomFill(absl::MakeSpan(nonce)));
  ART_ASSIGN_OR_RETURN(art::Bytes ciphertext, art::Aes256GcmSeal(key.span(), nonce,
                                                                 StateAdditionalData(name, version), plaintext.span()));
  nonce.insert(nonce.end(), ciphertext.begin(), ciphertext.end());
  return nonce;
}

absl::StatusOr<art::SecretBytes> OpenState(const art::SecretBytes& key, const std::string& name, uint64_t version,
                                           art::ByteSpan sealed) {
  if (sealed.size() < art::kAes256GcmNonceSize + art::kAes256GcmTagSize) {
    return absl::DataLossError(absl::StrCat("state blob \"", name, "\" is truncated"));
  }
  absl::StatusOr<art::SecretBytes> plaintext =
      art::Aes256GcmOpen(key.span(), sealed.subspan(0, art::kAes256GcmNonceSize), StateAdditionalData(name, version),
                         sealed.subspan(art::kAes256GcmNonceSize));
  if (!plaintext.ok()) {
    return absl::DataLossError(absl::StrCat("state blob \"", name, "\" version ", version,
                                            " does not decrypt (wrong key, or the blob was altered or moved): ",
                                            plaintext.status().message()));
  }
  return plaintext;
}

}  // namespace artd::client
