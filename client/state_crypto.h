// The encryption every StateStore applies to its blobs (internal to the SDK): AES-256-GCM under the
// application's key, a fresh random nonce per write, and the blob's name and version as additional
// data, so a blob cannot be moved to another name or replayed as another version without failing.
#ifndef CLIENT_STATE_CRYPTO_H_
#define CLIENT_STATE_CRYPTO_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"

namespace artd::client {

// Checks that |key| is an AES-256 key (INVALID_ARGUMENT otherwise).
absl::Status CheckStateKey(const art::SecretBytes& key);

// nonce || ciphertext || tag of |plaintext| as version |version| of |name|.
absl::StatusOr<art::Bytes> SealState(const art::SecretBytes& key, const std::string& name, uint64_t version,
                                     const art::SecretBytes& plaintext);

// The plaintext of |sealed|; DATA_LOSS when it does not authenticate (wrong key, a blob of another
// name or version, or corruption).
absl::StatusOr<art::SecretBytes> OpenState(const art::SecretBytes& key, const std::string& name, uint64_t version,
                                           art::ByteSpan sealed);

}  // namespace artd::client

#endif  // CLIENT_STATE_CRYPTO_H_
