// Where the SDK keeps a member's state between runs: small named blobs with versions, written with
// compare-and-swap so that two processes acting for one member can never both overwrite the same
// version (the stale one is refused and reloads). Blobs hold secrets: every implementation stores
// them encrypted under a key the application supplies (AES-256-GCM), never in clear.
#ifndef CLIENT_STATE_STORE_H_
#define CLIENT_STATE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/secret_bytes.h"

namespace artd::client {

struct VersionedState {
  uint64_t version = 0;  // 1 for the first write.
  art::SecretBytes plaintext;
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  // The blob |name|, or nullopt when none was stored. DATA_LOSS when it does not decrypt.
  virtual absl::StatusOr<std::optional<VersionedState>> Load(const std::string& name) = 0;
  // Stores |plaintext| as the next version of |name| if its current version is |expected_version|
  // (0: it must not exist yet); FAILED_PRECONDITION (or ALREADY_EXISTS for a second create)
  // otherwise, with nothing written. Durable when it returns. Returns the new version.
  virtual absl::StatusOr<uint64_t> Store(const std::string& name, uint64_t expected_version,
                                         const art::SecretBytes& plaintext) = 0;
  // Called by MemberClient with the member's identity signing key as soon as it has one (Register
  // generates it before the first Store): a store that speaks for the member to the service (see
  // service_state_store.h) signs its requests with it. Others ignore it.
  virtual void UseSigningKey(const art::Ed25519PrivateKey& signing_key) {}
};

// Files under |directory| (created if missing), one per name, encrypted under |key| (32 bytes) with
// the name and version as additional data; written to a temporary file, fsynced and renamed, so a
// crash leaves either the old or the new version. A lock file serializes writers across processes.
absl::StatusOr<std::unique_ptr<StateStore>> OpenFileStateStore(const std::string& directory,
                                                               const art::SecretBytes& key);

}  // namespace artd::client

#endif  // CLIENT_STATE_STORE_H_
