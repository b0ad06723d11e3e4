#include "tests/service/service_harness.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "art/identity/prekeys.h"
#include "service/grpc/tenant_authenticator.h"
#include "storage/sqlite/sqlite_store.h"

namespace artd::testing {

using art::testing::ValueOrDie;

std::string TempPath(const std::string& name) {
  static std::atomic<int> counter{0};
  const char* directory = std::getenv("TEST_TMPDIR");
  return absl::StrCat(directory != nullptr ? directory : "/tmp", "/", name, "-", getpid(), "-", counter++);
}

std::unique_ptr<grpc::ClientContext> TenantClient::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (send_api_key) context->AddMetadata("authorization", "Bearer " + api_key);
  return context;
}

v1::MemberAuth TenantClient::Sign(const art::testing::TestMember& member, std::string_view method,
                                  const art::Sha256Digest& digest) const {
  return ValueOrDie(art::SignRequest(member.identity.signing_key, tenant_id, method, member.member_id(), digest,
                                     static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()))));
}

std::unique_ptr<art::testing::TestMember> TenantClient::NewMember(const std::string& member_id,
                                                                  int one_time_prekeys) {
  std::unique_ptr<art::testing::TestMember> member = authority->NewMember(member_id, one_time_prekeys);
  v1::PublishIdentityRequest publish;
  *publish.mutable_credential() = member->identity.credential;
  *publish.mutable_auth() = Sign(*member, art::kPublishIdentityMethod, art::RequestDigest(publish));
  v1::PublishIdentityResponse published;
  grpc::Status status = keys->PublishIdentity(Context().get(), publish, &published);
  if (!status.ok()) {
    std::fprintf(stderr, "PublishIdentity: %s\n", status.error_message().c_str());
    std::abort();
  }
  v1::UploadPrekeysRequest upload;
  upload.set_member_id(member_id);
  *upload.mutable_signed_prekey() = member->signed_prekey;
  for (const v1::OneTimePrekey& prekey : member->one_time_prekeys) *upload.add_one_time_prekeys() = prekey;
  *upload.mutable_auth() = Sign(*member, art::kUploadPrekeysMethod, art::RequestDigest(upload));
  v1::UploadPrekeysResponse uploaded;
  status = keys->UploadPrekeys(Context().get(), upload, &uploaded);
  if (!status.ok()) {
    std::fprintf(stderr, "UploadPrekeys: %s\n", status.error_message().c_str());
    std::abort();
  }
  member->one_time_prekeys.clear();  // Now held by the service.
  return member;
}

namespace {

ServerOptions WithConfig(ServiceConfig config) {
  ServerOptions options;
  options.service = std::move(config);
  return options;
}

}  // namespace

ServiceHarness::ServiceHarness(ServiceConfig config)
    : ServiceHarness(WithConfig(std::move(config)), HarnessChannel()) {}

ServiceHarness::ServiceHarness(ServerOptions options, const HarnessChannel& channel) {
  database_path_ = TempPath("artd.db");
  store_ = ValueOrDie(OpenSqliteStore(database_path_));
  options.listen_address = "127.0.0.1:0";
  server_ = ValueOrDie(StartServer(options, store_.get()));
  channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_->port()), channel.credentials,
                                       channel.arguments);
}

std::unique_ptr<TenantClient> ServiceHarness::ClientOn(const TenantClient& tenant,
                                                       std::shared_ptr<grpc::Channel> channel,
                                                       bool send_api_key) const {
  auto client = std::make_unique<TenantClient>();
  client->tenant_id = tenant.tenant_id;
  client->api_key = tenant.api_key;
  client->api_key_id = tenant.api_key_id;
  client->authority = std::make_unique<art::testing::TestTenant>(*tenant.authority);
  client->send_api_key = send_api_key;
  client->keys = v1::KeyDirectory::NewStub(channel);
  client->groups = v1::Groups::NewStub(channel);
  client->mailbox = v1::Mailbox::NewStub(channel);
  client->state = v1::StateBlobs::NewStub(channel);
  return client;
}

ServiceHarness::~ServiceHarness() {
  server_->Shutdown(absl::Seconds(1));
  server_->Wait();
}

std::unique_ptr<TenantClient> ServiceHarness::NewTenant(const std::string& tenant_id, bool register_credential_key) {
  auto client = std::make_unique<TenantClient>();
  client->tenant_id = tenant_id;
  client->authority = std::make_unique<art::testing::TestTenant>(tenant_id);
  if (!store_->CreateTenant(tenant_id).ok()) std::abort();
  IssuedApiKey key = ValueOrDie(NewApiKey());
  if (!store_->AddApiKey(tenant_id, key.key_id, key.hash).ok()) std::abort();
  if (register_credential_key) {
    const art::Ed25519PublicKey& public_key = client->authority->credential_key().public_key();
    if (!store_->AddTenantCredentialKey(tenant_id, Bytes(public_key.begin(), public_key.end())).ok()) std::abort();
  }
  client->api_key = key.key;
  client->api_key_id = key.key_id;
  client->keys = v1::KeyDirectory::NewStub(channel_);
  client->groups = v1::Groups::NewStub(channel_);
  client->mailbox = v1::Mailbox::NewStub(channel_);
  client->state = v1::StateBlobs::NewStub(channel_);
  return client;
}

v1::PrekeyBundle FetchBundle(const TenantClient& tenant, const std::string& member_id) {
  v1::FetchPrekeyBundleRequest request;
  request.set_member_id(member_id);
  v1::FetchPrekeyBundleResponse response;
  grpc::Status status = tenant.keys->FetchPrekeyBundle(tenant.Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.bundle();
}

art::MemberGroup CreateGroup(const TenantClient& tenant, const art::testing::TestMember& creator,
                             const std::vector<const art::testing::TestMember*>& others, const std::string& group_id) {
  std::vector<v1::PrekeyBundle> bundles;
  for (const art::testing::TestMember* member : others) bundles.push_back(FetchBundle(tenant, member->member_id()));
  art::MemberGroup::Created created =
      ValueOrDie(art::MemberGroup::Create(tenant.authority->config(), creator.identity, group_id, bundles));
  v1::CreateGroupRequest request;
  *request.mutable_setup() = created.setup;
  *request.mutable_auth() = tenant.Sign(creator, art::kCreateGroupMethod, art::RequestDigest(request));
  v1::CreateGroupResponse response;
  grpc::Status status = tenant.groups->CreateGroup(tenant.Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return std::move(created.group);
}

art::MemberGroup Join(const TenantClient& tenant, art::testing::TestMember& member, const std::string& group_id) {
  v1::GetSetupRequest request;
  request.set_group_id(group_id);
  v1::GetSetupResponse response;
  grpc::Status status = tenant.groups->GetSetup(tenant.Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return ValueOrDie(art::MemberGroup::JoinFromSetup(tenant.authority->config(), member.identity, &member.prekeys,
                                                    response.setup()));
}

grpc::Status Submit(const TenantClient& tenant, const art::testing::TestMember& signer,
                    const art::PendingCommit& pending, v1::SubmitCommitResponse* response) {
  v1::SubmitCommitRequest request;
  *request.mutable_commit() = pending.commit;
  if (pending.welcome.has_value()) *request.mutable_welcome() = *pending.welcome;
  *request.mutable_auth() = tenant.Sign(signer, art::kSubmitCommitMethod, art::RequestDigest(request));
  return tenant.groups->SubmitCommit(tenant.Context().get(), request, response);
}

}  // namespace artd::testing
