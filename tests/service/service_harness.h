// An artd server in this process on a fresh SQLite file, with tenants, API keys and gRPC stubs, and
// members (from art/testing) that sign their requests: for tests through the real gRPC API.
#ifndef TESTS_SERVICE_SERVICE_HARNESS_H_
#define TESTS_SERVICE_SERVICE_HARNESS_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "api/art/v1/service.grpc.pb.h"
#include "art/protocol/member_group.h"
#include "art/requests/request_signature.h"
#include "art/testing/group_fixture.h"
#include "service/server/server.h"
#include "storage/store.h"

namespace artd::testing {

namespace v1 = ::art::v1;

// One tenant's view of the service: its API key and stubs.
struct TenantClient {
  std::string tenant_id;
  std::string api_key;
  std::string api_key_id;
  std::unique_ptr<art::testing::TestTenant> authority;  // Issues the tenant's member credentials.
  std::unique_ptr<v1::KeyDirectory::Stub> keys;
  std::unique_ptr<v1::Groups::Stub> groups;
  std::unique_ptr<v1::Mailbox::Stub> mailbox;
  std::unique_ptr<v1::StateBlobs::Stub> state;

  // Whether Context() sends the API key (a tenant may instead be named by its client certificate).
  bool send_api_key = true;

  // A client context carrying the API key.
  std::unique_ptr<grpc::ClientContext> Context() const;
  // Signs a request for |member| with the current time.
  v1::MemberAuth Sign(const art::testing::TestMember& member, std::string_view method,
                      const art::Sha256Digest& digest) const;
  // A member of this tenant: identity published, |one_time_prekeys| one-time prekeys uploaded.
  std::unique_ptr<art::testing::TestMember> NewMember(const std::string& member_id, int one_time_prekeys = 2);
};

// How the harness's own channel reaches the server.
struct HarnessChannel {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments arguments;
};

class ServiceHarness {
 public:
  // Starts a server on a temporary database; aborts the test binary on failure.
  explicit ServiceHarness(ServiceConfig config = {});
  // The same with every server option (the listen address is replaced by a free local port) and a
  // channel made as |channel| says.
  ServiceHarness(ServerOptions options, const HarnessChannel& channel);
  ~ServiceHarness();

  // Creates a tenant with an API key (and, when |register_credential_key|, registers the key its
  // members' credentials are signed with, so the service checks them too).
  std::unique_ptr<TenantClient> NewTenant(const std::string& tenant_id, bool register_credential_key = true);
  // A client of |tenant| (its key, authority and credential) on another channel.
  std::unique_ptr<TenantClient> ClientOn(const TenantClient& tenant, std::shared_ptr<grpc::Channel> channel,
                                         bool send_api_key) const;

  Store& store() { return *store_; }
  RunningServer& server() { return *server_; }
  const std::string& database_path() const { return database_path_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  std::string database_path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RunningServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Tenant calls that tests build on.
v1::PrekeyBundle FetchBundle(const TenantClient& tenant, const std::string& member_id);
// |creator| creates a group of itself and |others| through the service; returns its state.
art::MemberGroup CreateGroup(const TenantClient& tenant, const art::testing::TestMember& creator,
                             const std::vector<const art::testing::TestMember*>& others, const std::string& group_id);
art::MemberGroup Join(const TenantClient& tenant, art::testing::TestMember& member, const std::string& group_id);
grpc::Status Submit(const TenantClient& tenant, const art::testing::TestMember& signer,
                    const art::PendingCommit& pending, v1::SubmitCommitResponse* response);

// Unique file paths under the test's temporary directory.
std::string TempPath(const std::string& name);

}  // namespace artd::testing

#endif  // TESTS_SERVICE_SERVICE_HARNESS_H_
