// A StateStore kept in the artd service's StateBlobs API, for members whose devices keep nothing
// but two secrets: the state key and the identity signing key. Blobs are encrypted on the client
// exactly as the file store encrypts them (the service stores only ciphertext, bound to name and
// version), and the service's version compare-and-swap refuses a stale writer (FAILED_PRECONDITION).
//
// The service accepts PutState/GetState only when signed by the member's identity key. A member
// being registered has none yet: open the store without it, and MemberClient::Register hands it the
// key it generates (StateStore::UseSigningKey) before the first write. To reopen the member later,
// the application passes the signing key it kept (MemberClient::signing_key(), e.g. its seed in the
// platform keystore), since the identity blob itself can only be read with it.
#ifndef CLIENT_SERVICE_STATE_STORE_H_
#define CLIENT_SERVICE_STATE_STORE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/secret_bytes.h"
#include "client/member_client.h"
#include "client/state_store.h"

namespace artd::client {

absl::StatusOr<std::unique_ptr<StateStore>> OpenServiceStateStore(
    const ClientOptions& options, std::string member_id, const art::SecretBytes& key,
    std::optional<art::Ed25519PrivateKey> signing_key = std::nullopt);

}  // namespace artd::client

#endif  // CLIENT_SERVICE_STATE_STORE_H_
