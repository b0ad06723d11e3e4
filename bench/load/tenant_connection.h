// One tenant backend's connection to artd, speaking for its members the way the service tests and
// the SDK do: API key metadata on every call, member-signed requests (art/requests), and the group
// flow of art::MemberGroup. Calls that the load tool measures return the RPC's own latency, with
// request building, signing and MemberGroup work done before the clock starts.
#ifndef BENCH_LOAD_TENANT_CONNECTION_H_
#define BENCH_LOAD_TENANT_CONNECTION_H_

#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/art/v1/service.grpc.pb.h"
#include "art/protocol/member_group.h"
#include "art/testing/group_fixture.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace artd::load {

namespace v1 = ::art::v1;
using art::testing::TestMember;

absl::Status ToStatus(const grpc::Status& status);

// A channel of its own (its own TCP connection: gRPC would otherwise share one subchannel between
// channels to the same target). |target| must be loopback (checked by the caller).
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target);

class TenantConnection {
 public:
  TenantConnection(std::shared_ptr<grpc::Channel> channel, std::string tenant_id, std::string api_key);

  // ---- Setup (not measured) ----
  // Publishes |member|'s identity and uploads its signed and one-time prekeys.
  absl::Status Publish(TestMember& member);
  absl::StatusOr<v1::PrekeyBundle> FetchBundle(const std::string& member_id);
  absl::Status CreateGroup(const v1::Setup& setup);
  absl::StatusOr<v1::Setup> GetSetup(const std::string& group_id);
  // Fetches and processes every commit after |group|'s epoch; an error if that made no progress.
  absl::Status CatchUp(art::MemberGroup& group);

  // ---- Prepared before the measured window (building and signing is the client's work) ----
  static v1::SubmitCommitRequest CommitRequest(const art::PendingCommit& pending);
  // The PostMessage request for |message|, signed for |sender| (its MemberAuth stays fresh for the
  // service's clock-skew allowance, minutes: far longer than a run).
  absl::StatusOr<v1::PostMessageRequest> PostRequest(const TestMember& sender, const v1::ApplicationMessage& message) const;

  // ---- Measured: the RPC alone is timed into |latency| ----
  grpc::Status SubmitCommit(const v1::SubmitCommitRequest& request, absl::Duration* latency);
  grpc::Status PostMessage(const v1::PostMessageRequest& request, absl::Duration* latency);
  // The floor: the standard health check, the same gRPC path with no handler work (and the same
  // API key metadata, so that requests differ only in what the server does with them).
  grpc::Status HealthCheck(absl::Duration* latency);

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;
  absl::StatusOr<v1::MemberAuth> Sign(const TestMember& member, std::string_view method,
                                      const art::Sha256Digest& digest) const;
  // Signs |request| for |member| (filling its auth), then calls |method|, timing only the call.
  template <typename Stub, typename Request, typename Response>
  grpc::Status SignedCall(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*), Stub& stub,
                          const TestMember& member, std::string_view method_name, Request& request,
                          Response* response, absl::Duration* latency);
  // Runs one call with the API key and, when |latency| is given, times it.
  template <typename Stub, typename Request, typename Response>
  grpc::Status TimedCall(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*), Stub& stub,
                         const Request& request, Response* response, absl::Duration* latency);

  std::string tenant_id_;
  std::string api_key_;
  std::unique_ptr<v1::KeyDirectory::Stub> keys_;
  std::unique_ptr<v1::Groups::Stub> groups_;
  std::unique_ptr<v1::Mailbox::Stub> mailbox_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace artd::load

#endif  // BENCH_LOAD_TENANT_CONNECTION_H_
