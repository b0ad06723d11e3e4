// What a tenant backend and its members do through the service's gRPC API, as calls that return
// absl::Status: for tests that talk to artd processes, where a call may also fail because a server was
// killed. Every call has a deadline, so a stuck server fails a test instead of hanging it.
#ifndef TESTS_PROCESS_GROUP_CLIENT_H_
#define TESTS_PROCESS_GROUP_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "art/protocol/member_group.h"
#include "tests/process/artd_process.h"
#include "api/art/v1/service.grpc.pb.h"
#include "art/requests/request_signature.h"
#include "art/testing/group_fixture.h"
#include "tests/service/service_harness.h"

namespace artd::testing {

inline constexpr absl::Duration kCallTimeout = absl::Seconds(15);

// A tenant's connection to one artd process is tests/service's TenantClient; here every call goes
// through the helpers below instead of its Context() and NewMember(), since a call to a killed server
// must fail the test (or be expected to fail) rather than hang or abort.

// A context carrying |client|'s API key, with the call deadline (kCallTimeout from now).
std::unique_ptr<grpc::ClientContext> CallContext(const TenantClient& client);

// A member certified by |client|'s authority that has published its identity and
// |one_time_prekeys| one-time prekeys.
absl::StatusOr<std::unique_ptr<art::testing::TestMember>> NewMember(const TenantClient& client,
                                                                     const std::string& member_id,
                                                                     int one_time_prekeys = 2);

// |tenant|'s client of the server at the other end of |channel|.
std::unique_ptr<TenantClient> ConnectTenant(const ProvisionedTenant& tenant, std::shared_ptr<grpc::Channel> channel);

// The gRPC status as an absl::Status with the same code and message.
absl::Status FromGrpc(const grpc::Status& status);

// A member's device and its state in one group (none before it joins).
struct Seat {
  std::unique_ptr<art::testing::TestMember> device;
  std::optional<art::MemberGroup> group;

  const std::string& member_id() const { return device->member_id(); }
  art::MemberGroup& state() { return *group; }
};

absl::StatusOr<v1::PrekeyBundle> FetchPrekeyBundle(const TenantClient& client, const std::string& member_id);

// Takes one of |member_id|'s one-time prekeys: DATA_LOSS if its bundle comes without one (none of
// those it uploaded is left).
absl::Status TakeOneTimePrekey(const TenantClient& client, const std::string& member_id);

// Throughout, member i of a list makes its calls through clients[i % clients.size()].

// Members |member_ids| publish their identities and prekeys; none is in a group yet.
absl::StatusOr<std::vector<Seat>> NewSeats(const std::vector<TenantClient*>& clients,
                                           const std::vector<std::string>& member_ids);

// The first of |seats| creates |group_id| of them all and the others join from its Setup.
absl::Status FormGroup(const std::vector<TenantClient*>& clients, std::vector<Seat>& seats,
                       const std::string& group_id);

// NewSeats, then FormGroup.
absl::StatusOr<std::vector<Seat>> CreateGroupOf(const std::vector<TenantClient*>& clients,
                                                const std::vector<std::string>& member_ids,
                                                const std::string& group_id);

// Submits |pending|, signed by |signer|; returns the epoch it created.
absl::StatusOr<uint64_t> SubmitCommit(const TenantClient& client, const art::testing::TestMember& signer,
                                      const art::PendingCommit& pending);

// Makes an update at |seat|, submits it and applies it once accepted; returns the epoch it created.
absl::StatusOr<uint64_t> CommitUpdate(const TenantClient& client, Seat& seat);

// Every commit after |after_epoch|, across pages.
absl::StatusOr<std::vector<v1::Commit>> ListCommits(const TenantClient& client, const std::string& group_id,
                                                    uint64_t after_epoch);

// Fetches and processes every commit after |group|'s epoch.
absl::Status CatchUp(const TenantClient& client, art::MemberGroup& group);

absl::StatusOr<uint64_t> PostMessage(const TenantClient& client, const art::testing::TestMember& sender,
                                     const v1::ApplicationMessage& message);

// Every stored message of |group_id|, across pages.
absl::StatusOr<std::vector<v1::StoredMessage>> FetchAllMessages(const TenantClient& client,
                                                                const std::string& group_id);

// |member| fetches its Welcomes, joins from the first and acknowledges it.
absl::StatusOr<art::MemberGroup> JoinFromWelcome(const TenantClient& client, art::testing::TestMember& member);

absl::StatusOr<uint64_t> PutState(const TenantClient& client, const art::testing::TestMember& member,
                                  const std::string& name, uint64_t expected_version, const std::string& ciphertext);

// The group id of |group| as the API carries it.
std::string GroupIdOf(const art::MemberGroup& group);

}  // namespace artd::testing

#endif  // TESTS_PROCESS_GROUP_CLIENT_H_
