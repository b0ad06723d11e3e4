// An artd server in this process on a fresh SQLite file, with tenants, API keys and gRPC stubs, and
// members (from art/testing) that sign their requests: for tests through the real gRPC API.
#ifndef TESTS_SERVICE_SERVICE_HARNESS_H_
#define TESTS_SERVICE_SERVICE_HARNESS_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "api/art/v1/service.grpc.pb.h"
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

  // A client context carrying the API key.
  std::unique_ptr<grpc::ClientContext> Context() const;
  // Signs a request for |member| with the current time.
  v1::MemberAuth Sign(const art::testing::TestMember& member, std::string_view method,
                      const art::Sha256Digest& digest) const;
  // A member of this tenant: identity published, |one_time_prekeys| one-time prekeys uploaded.
  std::unique_ptr<art::testing::TestMember> NewMember(const std::string& member_id, int one_time_prekeys = 2);
};

class ServiceHarness {
 public:
  // Starts a server on a temporary database; aborts the test binary on failure.
  explicit ServiceHarness(ServiceConfig config = {});
  ~ServiceHarness();

  // Creates a tenant with an API key (and, when |register_credential_key|, registers the key its
  // members' credentials are signed with, so the service checks them too).
  std::unique_ptr<TenantClient> NewTenant(const std::string& tenant_id, bool register_credential_key = true);

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

// Unique file paths under the test's temporary directory.
std::string TempPath(const std::string& name);

}  // namespace artd::testing

#endif  // TESTS_SERVICE_SERVICE_HARNESS_H_
