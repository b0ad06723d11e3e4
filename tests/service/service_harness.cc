#include "tests/service/service_harness.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
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
  context->AddMetadata("authorization", "Bearer " + api_key);
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

ServiceHarness::ServiceHarness(ServiceConfig config) {
  database_path_ = TempPath("artd.db");
  store_ = ValueOrDie(OpenSqliteStore(database_path_));
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.service = std::move(config);
  server_ = ValueOrDie(StartServer(options, store_.get()));
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials());
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

}  // namespace artd::testing
