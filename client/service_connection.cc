#include "client/service_connection.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "art/requests/request_signature.h"

namespace artd::client {

ServiceConnection::ServiceConnection(const ClientOptions& options)
    : api_key_(options.api_key),
      tenant_id_(options.tenant_id),
      clock_for_testing_(options.clock_for_testing),
      keys_(art::v1::KeyDirectory::NewStub(options.channel)),
      groups_(art::v1::Groups::NewStub(options.channel)),
      mailbox_(art::v1::Mailbox::NewStub(options.channel)),
      state_(art::v1::StateBlobs::NewStub(options.channel)) {}

absl::Status ServiceConnection::FromGrpc(std::string_view call, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // gRPC and Abseil share the canonical code numbers.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(std::string(call), ": ", status.error_message()));
}

absl::StatusOr<art::v1::MemberAuth> ServiceConnection::SignDigest(const art::Ed25519PrivateKey& signing_key,
                                                                  std::string_view member_id,
                                                                  std::string_view method,
                                                                  const art::Sha256Digest& digest) const {
  return art::SignRequest(signing_key, tenant_id_, method, member_id, digest,
                          static_cast<uint64_t>(absl::ToUnixMillis(ClientNow(clock_for_testing_))));
}

}  // namespace artd::client
