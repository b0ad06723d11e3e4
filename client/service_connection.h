// The SDK's connection to the artd service (internal): stubs on the application's channel, the
// tenant's API key on every call, member signatures on the calls that speak for a member, and gRPC
// statuses turned into absl::Status values that name the call.
#ifndef CLIENT_SERVICE_CONNECTION_H_
#define CLIENT_SERVICE_CONNECTION_H_

#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "api/art/v1/service.grpc.pb.h"
#include "art/requests/request_signature.h"
#include "art/crypto/ed25519.h"
#include "client/member_client.h"

namespace artd::client {

class ServiceConnection {
 public:
  explicit ServiceConnection(const ClientOptions& options);

  const std::string& tenant_id() const { return tenant_id_; }
  art::v1::KeyDirectory::Stub& keys() { return *keys_; }
  art::v1::Groups::Stub& groups() { return *groups_; }
  art::v1::Mailbox::Stub& mailbox() { return *mailbox_; }
  art::v1::StateBlobs::Stub& state() { return *state_; }

  // Runs |rpc| with a context carrying the API key; a failure becomes an absl::Status with the same
  // code whose message names |call|.
  template <typename Rpc>
  absl::Status Call(std::string_view call, Rpc rpc) const {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + api_key_);
    return FromGrpc(call, rpc(&context));
  }

  // Sets |request|'s auth: signed by |signing_key| for |member_id|, now.
  template <typename Request>
  absl::Status SignAs(const art::Ed25519PrivateKey& signing_key, std::string_view member_id,
                      std::string_view method, Request* request) const {
    absl::StatusOr<art::v1::MemberAuth> auth = SignDigest(signing_key, member_id, method, art::RequestDigest(*request));
    if (!auth.ok()) return auth.status();
    *request->mutable_auth() = *std::move(auth);
    return absl::OkStatus();
  }

  static absl::Status FromGrpc(std::string_view call, const grpc::Status& status);

 private:
  absl::StatusOr<art::v1::MemberAuth> SignDigest(const art::Ed25519PrivateKey& signing_key,
                                                 std::string_view member_id, std::string_view method,
                                                 const art::Sha256Digest& digest) const;

  std::string api_key_;
  std::string tenant_id_;
  std::function<absl::Time()> clock_for_testing_;
  std::unique_ptr<art::v1::KeyDirectory::Stub> keys_;
  std::unique_ptr<art::v1::Groups::Stub> groups_;
  std::unique_ptr<art::v1::Mailbox::Stub> mailbox_;
  std::unique_ptr<art::v1::StateBlobs::Stub> state_;
};

}  // namespace artd::client

#endif  // CLIENT_SERVICE_CONNECTION_H_
