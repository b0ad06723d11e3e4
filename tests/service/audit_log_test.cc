// `artd admin` writes one JSON audit line per action (also failed ones), naming the actor, the action,
// the tenant and the key id or certificate fingerprint, and never an API key or its hash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "art/crypto/bytes.h"
#include "service/grpc/client_certificate.h"
#include "service/grpc/tenant_authenticator.h"
#include "tests/service/service_harness.h"
#include "tests/service/test_certificates.h"

namespace artd::testing {
namespace {

using art::testing::ValueOrDie;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadAll(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string ArtdBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/", workspace != nullptr ? workspace : "artd",
                      "/service/artd");
}

class AuditLogTest : public ::testing::Test {
 protected:
  // Runs `[env] artd admin --database <db> <args>`; returns the exit status, stdout in |out|, stderr in |err|.
  int Admin(const std::string& args, const std::string& env = "") {
    const std::string out_path = TempPath("stdout");
    const std::string err_path = TempPath("stderr");
    const int status = std::system(absl::StrCat(env, " ", ArtdBinary(), " admin --database ", database_, " ", args,
                                                " >", out_path, " 2>", err_path)
                                       .c_str());
    out = ReadAll(out_path);
    err = ReadAll(err_path);
    return status;
  }

  // The audit file's lines, parsed.
  std::vector<nlohmann::json> AuditEntries() {
    std::vector<nlohmann::json> entries;
    for (absl::string_view line : absl::StrSplit(ReadAll(audit_path_), '\n', absl::SkipEmpty())) {
      entries.push_back(nlohmann::json::parse(std::string(line), nullptr, /*allow_exceptions=*/false));
      EXPECT_TRUE(entries.back().is_object()) << line;
    }
    return entries;
  }

  std::string database_ = TempPath("admin.db");
  std::string audit_path_ = TempPath("audit.log");
  std::string audit_flag_ = "--audit-log-file " + audit_path_;
  std::string out;
  std::string err;
};

TEST_F(AuditLogTest, AdminActionsAreAuditedWithoutKeyMaterial) {
  ASSERT_EQ(Admin(audit_flag_ + " create-tenant --tenant acme"), 0) << err;
  ASSERT_EQ(Admin(audit_flag_ + " issue-key --tenant acme"), 0) << err;
  std::string api_key, key_id;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::ConsumePrefix(&line, "api_key ")) api_key = std::string(line);
    if (absl::ConsumePrefix(&line, "key_id ")) key_id = std::string(line);
  }
  ASSERT_FALSE(api_key.empty());
  ASSERT_EQ(Admin(audit_flag_ + " revoke-key --key-id " + key_id), 0) << err;
  ASSERT_EQ(Admin(audit_flag_ + " add-credential-key --tenant acme --public-key " + std::string(64, 'a')), 0) << err;
  TestCertificateAuthority ca("audit test CA");
  const std::string certificate = ca.IssueClient("acme client").certificate;
  const std::string fingerprint = art::ToHex(ValueOrDie(CertificateFingerprint(certificate)));
  const std::string cert_path = WriteTempFile("client.crt", certificate);
  ASSERT_EQ(Admin(audit_flag_ + " bind-client-cert --tenant acme --cert-file " + cert_path), 0) << err;
  ASSERT_EQ(Admin(audit_flag_ + " unbind-client-cert --fingerprint " + fingerprint), 0) << err;
  // A failure is audited too.
  ASSERT_NE(Admin(audit_flag_ + " revoke-key --key-id no-such-key"), 0);

  const std::vector<nlohmann::json> entries = AuditEntries();
  ASSERT_EQ(entries.size(), 7u);
  const std::vector<std::string> actions = {"create-tenant",      "issue-key",        "revoke-key",
                                            "add-credential-key", "bind-client-cert", "unbind-client-cert",
                                            "revoke-key"};
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].value("log", ""), "audit");
    EXPECT_EQ(entries[i].value("action", ""), actions[i]);
    EXPECT_TRUE(entries[i].contains("time"));
    EXPECT_TRUE(entries[i]["actor_uid"].is_number());
    EXPECT_TRUE(entries[i].contains("actor_user"));
    EXPECT_EQ(entries[i].value("outcome", ""), i + 1 < entries.size() ? "ok" : "failed");
  }
  EXPECT_EQ(entries[0].value("tenant", ""), "acme");
  EXPECT_EQ(entries[1].value("tenant", ""), "acme");
  EXPECT_EQ(entries[1].value("key_id", ""), key_id);
  EXPECT_EQ(entries[2].value("key_id", ""), key_id);
  EXPECT_EQ(entries[4].value("certificate_sha256", ""), fingerprint);
  EXPECT_EQ(entries[4].value("tenant", ""), "acme");
  EXPECT_EQ(entries[5].value("certificate_sha256", ""), fingerprint);
  EXPECT_EQ(entries[6].value("key_id", ""), "no-such-key");

  const std::string audit = ReadAll(audit_path_);
  EXPECT_THAT(audit, Not(HasSubstr(api_key.substr(api_key.rfind('_') + 1))));
  EXPECT_THAT(audit, Not(HasSubstr(art::ToHex(HashApiKey(api_key)))));
}

TEST_F(AuditLogTest, WithoutAFileTheAuditGoesToStderrOrTheEnvironmentsFile) {
  ASSERT_EQ(Admin("create-tenant --tenant acme"), 0) << err;
  nlohmann::json entry = nlohmann::json::parse(err, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(entry.is_object()) << err;
  EXPECT_EQ(entry.value("action", ""), "create-tenant");

  ASSERT_EQ(Admin("create-tenant --tenant other", "ARTD_AUDIT_LOG_FILE=" + audit_path_), 0) << err;
  EXPECT_EQ(err, "");
  const std::vector<nlohmann::json> entries = AuditEntries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].value("tenant", ""), "other");
}

}  // namespace
}  // namespace artd::testing
