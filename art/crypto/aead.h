// AES-256-GCM with a 12-byte nonce and a 16-byte tag appended to the ciphertext.
#ifndef ART_CRYPTO_AEAD_H_
#define ART_CRYPTO_AEAD_H_

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"

namespace art {

// Encrypts |plaintext| and returns ciphertext || tag. Fails (INVALID_ARGUMENT) on a key that is not 32
// bytes or a nonce that is not 12 bytes.
absl::StatusOr<Bytes> Aes256GcmSeal(ByteSpan key, ByteSpan nonce, ByteSpan additional_data,
                                    ByteSpan plaintext);

// Decrypts ciphertext || tag. Returns INVALID_ARGUMENT for wrong key or nonce sizes, and
// PERMISSION_DENIED ("AEAD authentication failed") when the tag does not verify (or the input is
// shorter than a tag); no plaintext is released in that case.
absl::StatusOr<SecretBytes> Aes256GcmOpen(ByteSpan key, ByteSpan nonce, ByteSpan additional_data,
                                          ByteSpan ciphertext_and_tag);

}  // namespace art

#endif  // ART_CRYPTO_AEAD_H_
