// TLS and mutual TLS on the gRPC port, with certificates made at test time: plaintext clients are
// refused, required client certificates are enforced, and a client certificate bound to a tenant
// authenticates it (isolated from other tenants) without an API key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "service/grpc/client_certificate.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/service/service_harness.h"
#include "tests/service/test_certificates.h"

namespace artd::testing {
namespace {

using art::testing::ValueOrDie;
using ::testing::HasSubstr;

#define EXPECT_GRPC(call, code) EXPECT_EQ((call).error_code(), grpc::StatusCode::code)

// A certificate authority for the server and the clients it trusts, and one nobody trusts.
class TlsTest : public ::testing::Test {
 protected:
  TlsTest() : ca_("artd test CA"), stranger_ca_("unknown CA"), server_(ca_.IssueServer()) {}

  ServerOptions Options(bool verify_clients, bool require_client_cert) {
    ServerOptions options;
    options.tls.cert_file = WriteTempFile("server.crt", server_.certificate);
    options.tls.key_file = WriteTempFile("server.key", server_.key);
    if (verify_clients) options.tls.client_ca_file = WriteTempFile("client-ca.crt", ca_.certificate());
    options.tls.require_client_cert = require_client_cert;
    return options;
  }

  // A TLS channel trusting the test CA, presenting |client| when given.
  HarnessChannel Tls(const PemKeyAndCertificate* client = nullptr) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_.certificate();
    if (client != nullptr) {
      ssl.pem_private_key = client->key;
      ssl.pem_cert_chain = client->certificate;
    }
    HarnessChannel channel;
    channel.credentials = grpc::SslCredentials(ssl);
    channel.arguments.SetSslTargetNameOverride("localhost");
    return channel;
  }

  std::shared_ptr<grpc::Channel> Connect(ServiceHarness& harness, const HarnessChannel& channel) {
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", harness.server().port()), channel.credentials,
                                     channel.arguments);
  }

  // CountPrekeys of a member that does not exist: OK with zero counts once authenticated.
  static grpc::Status Probe(const TenantClient& tenant) {
    v1::CountPrekeysRequest request;
    request.set_member_id("nobody");
    v1::CountPrekeysResponse response;
    auto context = tenant.Context();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return tenant.keys->CountPrekeys(context.get(), request, &response);
  }

  TestCertificateAuthority ca_;
  TestCertificateAuthority stranger_ca_;
  PemKeyAndCertificate server_;
};

TEST_F(TlsTest, TlsServesClientsThatTrustItsCertificate) {
  ServiceHarness harness(Options(false, false), Tls());
  std::unique_ptr<TenantClient> tenant = harness.NewTenant("tenant-a");
  EXPECT_TRUE(Probe(*tenant).ok()) << Probe(*tenant).error_message();
}

TEST_F(TlsTest, PlaintextClientsAreRefused) {
  ServiceHarness harness(Options(false, false), Tls());
  std::unique_ptr<TenantClient> tenant = harness.NewTenant("tenant-a");
  HarnessChannel plaintext;
  std::unique_ptr<TenantClient> plain = harness.ClientOn(*tenant, Connect(harness, plaintext), true);
  EXPECT_GRPC(Probe(*plain), UNAVAILABLE);
}

TEST_F(TlsTest, RequiredClientCertificatesAreEnforced) {
  ServiceHarness harness(Options(true, true), Tls());
  std::unique_ptr<TenantClient> tenant = harness.NewTenant("tenant-a");
  // The harness's channel has no client certificate: refused even with a valid API key.
  EXPECT_GRPC(Probe(*tenant), UNAVAILABLE);

  const PemKeyAndCertificate stranger = stranger_ca_.IssueClient("stranger");
  std::unique_ptr<TenantClient> untrusted = harness.ClientOn(*tenant, Connect(harness, Tls(&stranger)), true);
  EXPECT_GRPC(Probe(*untrusted), UNAVAILABLE);

  const PemKeyAndCertificate client = ca_.IssueClient("client");
  std::unique_ptr<TenantClient> trusted = harness.ClientOn(*tenant, Connect(harness, Tls(&client)), true);
  EXPECT_TRUE(Probe(*trusted).ok()) << Probe(*trusted).error_message();
}

TEST_F(TlsTest, ABoundClientCertificateAuthenticatesItsTenantOnly) {
  ServiceHarness harness(Options(true, false), Tls());
  std::unique_ptr<TenantClient> tenant_a = harness.NewTenant("tenant-a");
  std::unique_ptr<TenantClient> tenant_b = harness.NewTenant("tenant-b");
  const PemKeyAndCertificate certificate_a = ca_.IssueClient("tenant-a client");
  ASSERT_TRUE(harness.store()
                  .BindClientCertificate("tenant-a", ValueOrDie(CertificateFingerprint(certificate_a.certificate)))
                  .ok());
  std::unique_ptr<TenantClient> by_certificate =
      harness.ClientOn(*tenant_a, Connect(harness, Tls(&certificate_a)), /*send_api_key=*/false);

  // Without an API key the certificate names tenant A: a member published that way is A's.
  std::unique_ptr<art::testing::TestMember> alice = by_certificate->NewMember("alice");
  v1::CountPrekeysRequest count;
  count.set_member_id("alice");
  v1::CountPrekeysResponse counted;
  ASSERT_TRUE(tenant_a->keys->CountPrekeys(tenant_a->Context().get(), count, &counted).ok());
  EXPECT_EQ(counted.one_time_prekeys_remaining(), 2u);

  // Tenant B does not see A's member, and the certificate does not see B's.
  v1::FetchPrekeyBundleRequest fetch;
  fetch.set_member_id("alice");
  v1::FetchPrekeyBundleResponse fetched;
  EXPECT_GRPC(tenant_b->keys->FetchPrekeyBundle(tenant_b->Context().get(), fetch, &fetched), NOT_FOUND);
  std::unique_ptr<art::testing::TestMember> bob = tenant_b->NewMember("bob");
  fetch.set_member_id("bob");
  EXPECT_GRPC(by_certificate->keys->FetchPrekeyBundle(by_certificate->Context().get(), fetch, &fetched), NOT_FOUND);

  // An API key sent along names its own tenant: B's key over A's certificate is B.
  std::unique_ptr<TenantClient> b_over_a =
      harness.ClientOn(*tenant_b, Connect(harness, Tls(&certificate_a)), /*send_api_key=*/true);
  EXPECT_TRUE(b_over_a->keys->FetchPrekeyBundle(b_over_a->Context().get(), fetch, &fetched).ok());
}

TEST_F(TlsTest, AnUnboundCertificateWithoutAKeyIsUnauthenticated) {
  ServiceHarness harness(Options(true, false), Tls());
  std::unique_ptr<TenantClient> tenant = harness.NewTenant("tenant-a");
  const PemKeyAndCertificate unbound = ca_.IssueClient("unbound");
  std::unique_ptr<TenantClient> client = harness.ClientOn(*tenant, Connect(harness, Tls(&unbound)), false);
  grpc::Status status = Probe(*client);
  EXPECT_GRPC(status, UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("not bound"));
}

TEST_F(TlsTest, CertificatesAreIgnoredWhenTheServerDoesNotVerifyThem) {
  // Without a client CA the server asks for no certificate: a bound one authenticates nothing.
  ServiceHarness harness(Options(false, false), Tls());
  std::unique_ptr<TenantClient> tenant = harness.NewTenant("tenant-a");
  const PemKeyAndCertificate certificate = ca_.IssueClient("client");
  ASSERT_TRUE(harness.store()
                  .BindClientCertificate("tenant-a", ValueOrDie(CertificateFingerprint(certificate.certificate)))
                  .ok());
  std::unique_ptr<TenantClient> client = harness.ClientOn(*tenant, Connect(harness, Tls(&certificate)), false);
  EXPECT_GRPC(Probe(*client), UNAUTHENTICATED);
}

TEST_F(TlsTest, AHealthPortAnswersPlaintextProbesBesideATlsPort) {
  ServerOptions options = Options(true, true);
  options.health_listen_address = "127.0.0.1:0";
  ServiceHarness harness(options, Tls());
  ASSERT_GT(harness.server().health_port(), 0);
  auto check = [](std::shared_ptr<grpc::Channel> channel) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
    return status.ok() ? response.status() : grpc::health::v1::HealthCheckResponse::UNKNOWN;
  };
  EXPECT_EQ(check(grpc::CreateChannel(absl::StrCat("127.0.0.1:", harness.server().health_port()),
                                      grpc::InsecureChannelCredentials())),
            grpc::health::v1::HealthCheckResponse::SERVING);
  // The main port still wants TLS with a client certificate.
  EXPECT_EQ(check(grpc::CreateChannel(absl::StrCat("127.0.0.1:", harness.server().port()),
                                      grpc::InsecureChannelCredentials())),
            grpc::health::v1::HealthCheckResponse::UNKNOWN);
  // The health port serves nothing else.
  std::unique_ptr<TenantClient> tenant = harness.NewTenant("tenant-a");
  std::unique_ptr<TenantClient> on_health_port =
      harness.ClientOn(*tenant,
                       grpc::CreateChannel(absl::StrCat("127.0.0.1:", harness.server().health_port()),
                                           grpc::InsecureChannelCredentials()),
                       true);
  EXPECT_GRPC(Probe(*on_health_port), UNIMPLEMENTED);
}

TEST(TlsOptionsTest, InconsistentOptionsAreRefused) {
  std::unique_ptr<Store> store = ValueOrDie(OpenSqliteStore(":memory:"));
  ServerOptions key_without_cert;
  key_without_cert.listen_address = "127.0.0.1:0";
  key_without_cert.tls.key_file = "/nonexistent/server.key";
  EXPECT_EQ(StartServer(key_without_cert, store.get()).status().code(), absl::StatusCode::kInvalidArgument);
  ServerOptions ca_without_cert;
  ca_without_cert.listen_address = "127.0.0.1:0";
  ca_without_cert.tls.client_ca_file = "/nonexistent/ca.crt";
  EXPECT_EQ(StartServer(ca_without_cert, store.get()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace artd::testing
