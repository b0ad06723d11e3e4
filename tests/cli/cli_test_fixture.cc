#include "tests/cli/cli_test_fixture.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "art/crypto/bytes.h"
#include "art/identity/credential.h"

namespace artd::testing {

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

void CliTest::SetUp() {
  database_ = TempPath("artd.db");
  absl::StatusOr<ProvisionedTenant> tenant = ProvisionTenant(database_, "tenant-a");
  ASSERT_TRUE(tenant.ok()) << tenant.status();
  tenant_.emplace(*std::move(tenant));
  ArtdProcess::Options options;
  options.database = database_;
  absl::StatusOr<std::unique_ptr<ArtdProcess>> server = ArtdProcess::Start(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
}

client::cli::ServiceSettings CliTest::Settings() const {
  client::cli::ServiceSettings settings;
  settings.target = absl::StrCat("127.0.0.1:", server_->port());
  settings.api_key = tenant_->api_key;
  settings.tenant_id = tenant_->tenant_id;
  settings.tenant_keys_hex = {art::ToHex(tenant_->authority.credential_key().public_key())};
  return settings;
}

client::Certifier CliTest::Certify() const {
  const art::testing::TestTenant* authority = &tenant_->authority;
  return [authority](art::v1::Credential* credential) {
    return art::CertifyCredential(authority->credential_key(), credential);
  };
}

std::vector<std::string> CliTest::Env() const {
  const client::cli::ServiceSettings settings = Settings();
  // No ARTD_STATE_KEY: each member keeps its key in its directory's key file.
  return {
      absl::StrCat("ARTD_TARGET=", settings.target),
      absl::StrCat("ARTD_API_KEY=", settings.api_key),
      absl::StrCat("ARTD_TENANT=", settings.tenant_id),
      absl::StrCat("ARTD_TENANT_KEY=", settings.tenant_keys_hex[0]),
      absl::StrCat("ARTD_TENANT_SIGNING_SEED=", art::ToHex(tenant_->authority.credential_key().seed().span())),
  };
}

std::string CliTest::StateDir(const std::string& member) {
  auto [it, inserted] = state_dirs_.emplace(member, "");
  if (inserted) it->second = TempPath("member-" + member);
  return it->second;
}

std::unique_ptr<CliProcess> CliTest::Start(const std::string& member, const std::vector<std::string>& args,
                                           const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {CliBinaryPath(), "--state-dir", StateDir(member)};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env = Env();
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  absl::StatusOr<std::unique_ptr<CliProcess>> process = CliProcess::Start(std::move(argv), std::move(env));
  EXPECT_TRUE(process.ok()) << process.status();
  return process.ok() ? *std::move(process) : nullptr;
}

CliResult CliTest::Run(const std::string& member, const std::vector<std::string>& args) {
  std::unique_ptr<CliProcess> process = Start(member, args);
  if (process == nullptr) return CliResult();
  absl::StatusOr<CliResult> result = process->Wait(kCommandTimeout);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : CliResult();
}

std::string CliTest::Ok(const std::string& member, const std::vector<std::string>& args) {
  CliResult result = Run(member, args);
  EXPECT_EQ(result.exit_code, 0) << result.Describe();
  return result.out;
}

void CliTest::RegisterAll(const std::vector<std::string>& members) {
  for (const std::string& member : members) Ok(member, {"register", member});
}

Shown CliTest::Show(const std::string& member, const std::string& group) {
  Shown shown;
  for (const std::string& line : Lines(Ok(member, {"show", group}))) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "epoch ")) {
      EXPECT_TRUE(absl::SimpleAtoi(rest, &shown.epoch)) << line;
    } else if (absl::ConsumePrefix(&rest, "authenticator ")) {
      shown.authenticator = std::string(rest);
    } else if (absl::ConsumePrefix(&rest, "members ")) {
      shown.members = std::string(rest);
    }
  }
  EXPECT_FALSE(shown.authenticator.empty()) << member << " showed no authenticator";
  return shown;
}

std::vector<std::string> CliTest::Receive(const std::string& member, const std::string& group) {
  return Lines(Ok(member, {"receive", group}));
}

Shown CliTest::ExpectAgree(const std::string& group, const std::vector<std::string>& members) {
  const Shown first = Show(members.at(0), group);
  for (size_t i = 1; i < members.size(); ++i) {
    const Shown other = Show(members[i], group);
    EXPECT_EQ(other.epoch, first.epoch) << members[i] << " vs " << members[0];
    EXPECT_EQ(other.authenticator, first.authenticator) << members[i] << " vs " << members[0] << " at epoch "
                                                        << first.epoch;
    EXPECT_EQ(other.members, first.members) << members[i] << " vs " << members[0];
  }
  return first;
}

}  // namespace artd::testing
