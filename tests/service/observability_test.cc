// The server's observability through its real endpoints: the Prometheus scrape (calls by method and
// status code, commit conflicts, storage latency, bounded tenant gauges, nothing secret) and the
// access log (one JSON object per call with its request id, never an API key).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <regex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "art/protocol/member_group.h"
#include "service/grpc/tenant_authenticator.h"
#include "service/observability/log_line.h"
#include "service/observability/log_sink.h"
#include "tests/service/service_harness.h"

namespace artd::testing {
namespace {

using art::testing::ValueOrDie;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Keeps every line written.
class CapturingSink final : public observability::LogSink {
 public:
  void Write(std::string_view line) override {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.emplace_back(line);
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// GET http://127.0.0.1:|port|/metrics; the body (empty on any failure).
std::string Scrape(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, static_cast<size_t>(n));
    }
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 200", 0) != 0 && response.rfind("HTTP/1.0 200", 0) != 0) return "";
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The value of the sample whose name is |name| and whose labels include every one of |labels|
// ("key=\"value\"" each); -1 when there is none.
double Sample(const std::string& scrape, const std::string& name, const std::vector<std::string>& labels) {
  std::istringstream lines(scrape);
  for (std::string line; std::getline(lines, line);) {
    if (!absl::StartsWith(line, name + "{") && !absl::StartsWith(line, name + " ")) continue;
    bool all = true;
    for (const std::string& label : labels) all = all && absl::StrContains(line, label);
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

class ObservabilityTest : public ::testing::Test {
 protected:
  ObservabilityTest() {
    ServerOptions options;
    options.observability.metrics_listen = "127.0.0.1:0";
    options.observability.access_log = &access_log_;
    options.observability.tenant_metrics_interval = absl::Milliseconds(50);
    options.observability.tenant_metrics_top = 1;
    harness_ = std::make_unique<ServiceHarness>(options, HarnessChannel());
    tenant_a_ = harness_->NewTenant("tenant-a");
    tenant_b_ = harness_->NewTenant("tenant-b");
  }

  static grpc::Status CountPrekeys(const TenantClient& tenant, grpc::ClientContext* context) {
    v1::CountPrekeysRequest request;
    request.set_member_id("nobody");
    v1::CountPrekeysResponse response;
    return tenant.keys->CountPrekeys(context, request, &response);
  }

  // The scrape once |ready| holds for it (the tenant gauges refresh in the background).
  std::string ScrapeWhen(const std::function<bool(const std::string&)>& ready) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::string scrape = Scrape(harness_->server().metrics_port());
    while (!ready(scrape) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      scrape = Scrape(harness_->server().metrics_port());
    }
    return scrape;
  }

  CapturingSink access_log_;
  std::unique_ptr<ServiceHarness> harness_;
  std::unique_ptr<TenantClient> tenant_a_;
  std::unique_ptr<TenantClient> tenant_b_;
};

TEST_F(ObservabilityTest, MetricsCountCallsByMethodAndCode) {
  ASSERT_GT(harness_->server().metrics_port(), 0);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(CountPrekeys(*tenant_a_, tenant_a_->Context().get()).ok());
  grpc::ClientContext no_key;
  ASSERT_EQ(CountPrekeys(*tenant_a_, &no_key).error_code(), grpc::UNAUTHENTICATED);

  const std::string scrape = Scrape(harness_->server().metrics_port());
  const std::string method = "method=\"/art.v1.KeyDirectory/CountPrekeys\"";
  EXPECT_EQ(Sample(scrape, "artd_rpc_requests_total", {method, "code=\"OK\""}), 2);
  EXPECT_EQ(Sample(scrape, "artd_rpc_requests_total", {method, "code=\"UNAUTHENTICATED\""}), 1);
  EXPECT_EQ(Sample(scrape, "artd_rpc_duration_seconds_count", {method, "code=\"OK\""}), 2);
  // The harness published nothing through PublishIdentity yet: no series for it.
  EXPECT_EQ(Sample(scrape, "artd_rpc_requests_total", {"method=\"/art.v1.KeyDirectory/PublishIdentity\""}), -1);
  EXPECT_GE(Sample(scrape, "artd_storage_operation_duration_seconds_count", {"operation=\"TenantForApiKey\""}), 1);
  EXPECT_EQ(Sample(scrape, "artd_storage_errors_total", {"operation=\"TenantForApiKey\""}), 0);

  // Nothing secret: neither API key nor the hash of one.
  for (const TenantClient* tenant : {tenant_a_.get(), tenant_b_.get()}) {
    EXPECT_THAT(scrape, Not(HasSubstr(tenant->api_key)));
    EXPECT_THAT(scrape, Not(HasSubstr(tenant->api_key.substr(tenant->api_key.rfind('_') + 1))));
    EXPECT_THAT(scrape, Not(HasSubstr(art::ToHex(HashApiKey(tenant->api_key)))));
  }
  // Nor anything shaped like key material: no run of 32 or more hex digits.
  EXPECT_FALSE(std::regex_search(scrape, std::regex("[0-9a-fA-F]{32,}")));
}

TEST_F(ObservabilityTest, CommitConflictsAreCounted) {
  auto alice = tenant_a_->NewMember("alice");
  auto bob = tenant_a_->NewMember("bob");
  art::MemberGroup alice_group = CreateGroup(*tenant_a_, *alice, {bob.get()}, "team");
  art::MemberGroup bob_group = Join(*tenant_a_, *bob, "team");
  art::PendingCommit first = ValueOrDie(alice_group.CreateUpdate());
  art::PendingCommit second = ValueOrDie(bob_group.CreateUpdate());
  v1::SubmitCommitResponse submitted;
  ASSERT_TRUE(Submit(*tenant_a_, *alice, first, &submitted).ok());
  ASSERT_EQ(Submit(*tenant_a_, *bob, second, &submitted).error_code(), grpc::ABORTED);

  const std::string scrape = Scrape(harness_->server().metrics_port());
  EXPECT_EQ(Sample(scrape, "artd_commit_conflicts_total", {}), 1);
  EXPECT_EQ(Sample(scrape, "artd_rpc_requests_total", {"method=\"/art.v1.Groups/SubmitCommit\"", "code=\"ABORTED\""}),
            1);
}

TEST_F(ObservabilityTest, TenantGaugesShowTheLargestTenantsAndSumTheRest) {
  auto alice = tenant_a_->NewMember("alice");
  auto bob = tenant_a_->NewMember("bob");
  CreateGroup(*tenant_a_, *alice, {bob.get()}, "team");
  auto carol = tenant_b_->NewMember("carol");
  CreateGroup(*tenant_b_, *carol, {}, "solo");

  // Top 1 by members: tenant-a (2 members) has its own series, tenant-b is "(other)".
  const std::string scrape = ScrapeWhen([](const std::string& s) {
    return Sample(s, "artd_tenant_members", {"tenant=\"tenant-a\""}) == 2 &&
           Sample(s, "artd_tenant_members", {"tenant=\"(other)\""}) == 1;
  });
  EXPECT_EQ(Sample(scrape, "artd_tenant_members", {"tenant=\"tenant-a\""}), 2);
  EXPECT_EQ(Sample(scrape, "artd_tenant_groups", {"tenant=\"tenant-a\""}), 1);
  EXPECT_EQ(Sample(scrape, "artd_tenant_members", {"tenant=\"(other)\""}), 1);
  EXPECT_EQ(Sample(scrape, "artd_tenant_groups", {"tenant=\"(other)\""}), 1);
  EXPECT_EQ(Sample(scrape, "artd_tenant_members", {"tenant=\"tenant-b\""}), -1);
  EXPECT_EQ(Sample(scrape, "artd_tenants", {}), 2);
}

TEST_F(ObservabilityTest, AccessLogLinesAreJsonWithRequestIdsAndNoKeys) {
  grpc::ClientContext plain;
  plain.AddMetadata("authorization", "Bearer " + tenant_a_->api_key);
  ASSERT_TRUE(CountPrekeys(*tenant_a_, &plain).ok());
  auto returned_id = [](const grpc::ClientContext& context) {
    auto found = context.GetServerInitialMetadata().find("x-request-id");
    return found == context.GetServerInitialMetadata().end() ? std::string()
                                                             : std::string(found->second.data(), found->second.size());
  };
  const std::string generated = returned_id(plain);
  EXPECT_THAT(generated, MatchesRegex("[0-9a-f]{32}"));

  grpc::ClientContext with_id;
  with_id.AddMetadata("authorization", "Bearer " + tenant_a_->api_key);
  with_id.AddMetadata("x-request-id", "client-chosen.id_1");
  ASSERT_TRUE(CountPrekeys(*tenant_a_, &with_id).ok());
  EXPECT_EQ(returned_id(with_id), "client-chosen.id_1");

  grpc::ClientContext bad_key_and_id;
  bad_key_and_id.AddMetadata("authorization", "Bearer " + tenant_b_->api_key + "x");
  bad_key_and_id.AddMetadata("x-request-id", "not a well-formed id {}");
  ASSERT_EQ(CountPrekeys(*tenant_b_, &bad_key_and_id).error_code(), grpc::UNAUTHENTICATED);
  const std::string replaced = returned_id(bad_key_and_id);
  EXPECT_THAT(replaced, MatchesRegex("[0-9a-f]{32}"));

  std::map<std::string, nlohmann::json> by_request_id;
  for (const std::string& line : access_log_.lines()) {
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    nlohmann::json entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(entry.is_object()) << line;
    for (const char* field : {"time", "level", "request_id", "method", "tenant", "code", "duration_ms", "peer"}) {
      EXPECT_TRUE(entry.contains(field)) << field << " missing in " << line;
    }
    EXPECT_EQ(entry.value("log", ""), "access");
    for (const TenantClient* tenant : {tenant_a_.get(), tenant_b_.get()}) {
      EXPECT_THAT(line, Not(HasSubstr(tenant->api_key.substr(tenant->api_key.rfind('_') + 1))));
    }
    EXPECT_THAT(line, Not(HasSubstr("Bearer")));
    by_request_id[entry.value("request_id", "")] = entry;
  }
  ASSERT_EQ(by_request_id.count(generated), 1u);
  EXPECT_EQ(by_request_id[generated]["method"], "/art.v1.KeyDirectory/CountPrekeys");
  EXPECT_EQ(by_request_id[generated]["tenant"], "tenant-a");
  EXPECT_EQ(by_request_id[generated]["code"], "OK");
  EXPECT_EQ(by_request_id[generated]["level"], "info");
  EXPECT_THAT(by_request_id[generated]["peer"].get<std::string>(), HasSubstr("127.0.0.1"));
  EXPECT_TRUE(by_request_id[generated]["duration_ms"].is_number());
  ASSERT_EQ(by_request_id.count("client-chosen.id_1"), 1u);
  ASSERT_EQ(by_request_id.count(replaced), 1u);
  EXPECT_EQ(by_request_id[replaced]["code"], "UNAUTHENTICATED");
  EXPECT_EQ(by_request_id[replaced]["tenant"], "");
}

TEST(AccessLogTest, CanBeTurnedOff) {
  CapturingSink access_log;
  ServerOptions options;
  options.observability.access_log = &access_log;
  options.observability.access_log_enabled = false;
  ServiceHarness harness(options, HarnessChannel());
  std::unique_ptr<TenantClient> tenant = harness.NewTenant("tenant-a");
  v1::CountPrekeysRequest request;
  request.set_member_id("nobody");
  v1::CountPrekeysResponse response;
  ASSERT_TRUE(tenant->keys->CountPrekeys(tenant->Context().get(), request, &response).ok());
  EXPECT_TRUE(access_log.lines().empty());
}

TEST(LogLineTest, TextFormatQuotesOnlyWhatNeedsIt) {
  const std::string line = observability::LogLine(observability::LogFormat::kText, "info", absl::UnixEpoch())
                               .Add("method", "/a.B/C")
                               .Add("message", "two words \"quoted\"")
                               .Add("tenant", "")
                               .Add("count", int64_t{3})
                               .Finish();
  EXPECT_EQ(line,
            "time=1970-01-01T00:00:00.000Z level=info method=/a.B/C message=\"two words \\\"quoted\\\"\" tenant=\"\" "
            "count=3\n");
}

TEST(LogLineTest, JsonEscapesControlCharacters) {
  const std::string line = observability::LogLine(observability::LogFormat::kJson, "error", absl::UnixEpoch())
                               .Add("error", std::string("a\nb\x01"))
                               .Finish();
  EXPECT_EQ(line, "{\"time\":\"1970-01-01T00:00:00.000Z\",\"level\":\"error\",\"error\":\"a\\nb\\u0001\"}\n");
}

}  // namespace
}  // namespace artd::testing
