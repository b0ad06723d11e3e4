// The connection and trust settings of a test member process (crash and kill tests): the service's
// address, the tenant's API key and id, and the tenant credential key its members trust (hex).
#ifndef CLIENT_TESTING_COMMITTER_OPTIONS_H_
#define CLIENT_TESTING_COMMITTER_OPTIONS_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/member_client.h"

namespace artd::client {

// INVALID_ARGUMENT when |trusted_key_hex| is not 64 hex digits.
absl::StatusOr<ClientOptions> CommitterOptions(const std::string& address, const std::string& api_key,
                                               const std::string& tenant_id, const std::string& trusted_key_hex);

}  // namespace artd::client

#endif  // CLIENT_TESTING_COMMITTER_OPTIONS_H_
