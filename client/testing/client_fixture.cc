#include "client/testing/client_fixture.h"

#include "art/identity/credential.h"

namespace artd::client::testing {

void ClientTest::SetUp() {
  harness_ = std::make_unique<artd::testing::ServiceHarness>();
  tenant_ = harness_->NewTenant("tenant-a");
}

ClientOptions ClientTest::Options() const {
  ClientOptions options;
  options.channel = harness_->channel();
  options.api_key = tenant_->api_key;
  options.tenant_id = tenant_->tenant_id;
  options.trusted_tenant_keys = {tenant_->authority->credential_key().public_key()};
  options.one_time_prekeys = 4;
  options.retry_base = absl::Milliseconds(2);
  return options;
}

Certifier ClientTest::Certify() const {
  const art::testing::TestTenant* authority = tenant_->authority.get();
  return [authority](art::v1::Credential* credential) {
    return art::CertifyCredential(authority->credential_key(), credential);
  };
}

art::SecretBytes ClientTest::StateKey() {
  art::SecretBytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<uint8_t>(0xA0 + i);
  return key;
}

std::string ClientTest::StateDir(const std::string& member_id) {
  auto [it, inserted] = state_dirs_.emplace(member_id, "");
  if (inserted) it->second = artd::testing::TempPath("state-" + member_id);
  return it->second;
}

std::unique_ptr<MemberClient> ClientTest::Register(const std::string& member_id, ClientOptions options) {
  std::unique_ptr<StateStore> store = ValueOrDie(OpenFileStateStore(StateDir(member_id), StateKey()));
  return ValueOrDie(MemberClient::Register(std::move(options), member_id, Certify(), std::move(store)));
}

std::unique_ptr<MemberClient> ClientTest::Reopen(const std::string& member_id) {
  std::unique_ptr<StateStore> store = ValueOrDie(OpenFileStateStore(StateDir(member_id), StateKey()));
  return ValueOrDie(MemberClient::Open(Options(), member_id, std::move(store)));
}

uint64_t ClientTest::ExpectAgree(const std::string& group_id, const std::vector<MemberClient*>& members) {
  std::vector<GroupInfo> infos;
  for (MemberClient* member : members) {
    absl::StatusOr<GroupInfo> info = member->CatchUp(group_id);
    EXPECT_TRUE(info.ok()) << member->member_id() << ": " << info.status();
    if (info.ok()) infos.push_back(*std::move(info));
  }
  if (infos.empty()) return 0;
  for (const GroupInfo& info : infos) {
    EXPECT_EQ(info.epoch, infos[0].epoch);
    EXPECT_TRUE(info.epoch_authenticator == infos[0].epoch_authenticator) << "at epoch " << info.epoch;
    EXPECT_EQ(info.members, infos[0].members);
  }
  return infos[0].epoch;
}

std::string Text(const art::SecretBytes& bytes) { return std::string(bytes.data(), bytes.data() + bytes.size()); }

}  // namespace artd::client::testing
