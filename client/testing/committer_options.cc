#include "client/testing/committer_options.h"

#include <algorithm>

#include <grpcpp/grpcpp.h>

#include "art/crypto/bytes.h"

namespace artd::client {

absl::StatusOr<ClientOptions> CommitterOptions(const std::string& address, const std::string& api_key,
                                               const std::string& tenant_id, const std::string& trusted_key_hex) {
  art::Bytes trusted;
  if (!art::FromHex(trusted_key_hex, &trusted) || trusted.size() != art::kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("the trusted tenant key must be 64 hex digits");
  }
  ClientOptions options;
  options.channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  options.api_key = api_key;
  options.tenant_id = tenant_id;
  art::Ed25519PublicKey trusted_key;
  std::copy(trusted.begin(), trusted.end(), trusted_key.begin());
  options.trusted_tenant_keys = {trusted_key};
  return options;
}

}  // namespace artd::client
