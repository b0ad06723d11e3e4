#include "service/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "service/core/service_core.h"
#include "service/grpc/handlers.h"
#include "service/grpc/tenant_authenticator.h"
#include "service/observability/call_tenants.h"
#include "service/observability/metrics_endpoint.h"
#include "service/observability/rpc_interceptor.h"
#include "service/observability/rpc_metrics.h"
#include "service/observability/tenant_usage_gauges.h"
#include "service/observability/timed_store.h"

namespace artd {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  if (!file || !(contents << file.rdbuf())) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read the ", what, " ", path));
  }
  return contents.str();
}

// The gRPC port's credentials: plaintext without a certificate, else TLS (verifying client
// certificates when a client CA is given).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsOptions& tls) {
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty() || tls.require_client_cert) {
      return absl::InvalidArgumentError("client certificate options need a server certificate and key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
  }
  if (tls.require_client_cert && tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError("requiring client certificates needs a client CA file");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  absl::StatusOr<std::string> chain = ReadFile(tls.cert_file, "TLS certificate file");
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::string> key = ReadFile(tls.key_file, "TLS key file");
  if (!key.ok()) return key.status();
  pair.cert_chain = *std::move(chain);
  pair.private_key = *std::move(key);
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (tls.client_ca_file.empty()) {
    options.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  } else {
    absl::StatusOr<std::string> roots = ReadFile(tls.client_ca_file, "TLS client CA file");
    if (!roots.ok()) return roots.status();
    options.pem_root_certs = *std::move(roots);
    options.client_certificate_request = tls.require_client_cert
                                             ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                             : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

observability::LogSink* AccessLogSink(const ObservabilityOptions& options) {
  if (!options.access_log_enabled) return nullptr;
  return options.access_log != nullptr ? options.access_log : &observability::StderrLogSink();
}

// Bounds of the synchronous server's polling threads (see the builder below).
constexpr int kMinPollers = 2;
constexpr int kMaxPollers = 1024;

class GrpcServer final : public RunningServer {
 public:
  GrpcServer(const ServerOptions& options, Store* store)
      : registry_(std::make_shared<prometheus::Registry>()),
        store_(observability::NewTimedStore(store, *registry_)),
        core_(store_.get(), options.service),
        authenticator_(store_.get(), options.service.tenant_requests_per_second,
                       absl::Milliseconds(options.service.api_key_cache_millis)),
        key_directory_(HandlerContext{&core_, &authenticator_}),
        groups_(HandlerContext{&core_, &authenticator_}),
        mailbox_(HandlerContext{&core_, &authenticator_}),
        state_blobs_(HandlerContext{&core_, &authenticator_}),
        rpc_metrics_(*registry_, observability::ServedMethodNames()),
        tenant_usage_(store_.get(), *registry_, options.observability.tenant_metrics_top) {
    authenticator_.RecordTenantsIn(&call_tenants_);
    if (!options.tls.client_ca_file.empty()) authenticator_.TrustClientCertificates();
  }

  absl::Status Start(const ServerOptions& options) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = ServerCredentials(options.tls);
    if (!credentials.ok()) return credentials.status();
    if (!options.observability.metrics_listen.empty()) {
      absl::StatusOr<std::unique_ptr<observability::MetricsEndpoint>> endpoint =
          observability::StartMetricsEndpoint(options.observability.metrics_listen, registry_);
      if (!endpoint.ok()) return endpoint.status();
      metrics_endpoint_ = *std::move(endpoint);
    }
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen_address, *credentials, &port_);
    builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_receive_message_bytes));
    // The synchronous server runs each call on a thread that polls for work. By default a thread
    // that finished a call exits when two others are already polling, and one is started whenever
    // fewer than one polls: under concurrent calls that wait on storage (a commit waiting for its
    // batch's fsync) that is a thread created and destroyed per call, which cost more CPU than the
    // calls themselves. Keeping finished threads as pollers makes the pool settle at the peak
    // concurrency instead.
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, kMinPollers);
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kMaxPollers);
    builder.RegisterService(&key_directory_);
    builder.RegisterService(&groups_);
    builder.RegisterService(&mailbox_);
    builder.RegisterService(&state_blobs_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(std::make_unique<observability::RpcObserverFactory>(
        &rpc_metrics_, &call_tenants_, AccessLogSink(options.observability), options.observability.log_format));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen_address));
    }
    if (!options.health_listen_address.empty()) {
      // A server of its own with no service registered: only the default health service (and
      // reflection), which the builder adds to every server.
      grpc::ServerBuilder health_builder;
      health_builder.AddListeningPort(options.health_listen_address, grpc::InsecureServerCredentials(),
                                      &health_port_);
      health_server_ = health_builder.BuildAndStart();
      if (health_server_ == nullptr || health_port_ == 0) {
        return absl::UnavailableError(absl::StrCat("cannot listen on ", options.health_listen_address));
      }
    }
    // Retention: expired messages and request nonces are deleted in the background.
    purger_ = std::thread([this, store = store_.get(), interval = options.purge_interval] {
      while (!stopping_.WaitForNotificationWithTimeout(interval)) {
        (void)store->PurgeExpired(static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())));
      }
    });
    if (metrics_endpoint_ != nullptr) tenant_usage_.Start(options.observability.tenant_metrics_interval);
    return absl::OkStatus();
  }

  ~GrpcServer() override {
    if (!stopping_.HasBeenNotified()) stopping_.Notify();
    if (purger_.joinable()) purger_.join();
  }

  int port() const override { return port_; }
  int health_port() const override { return health_port_; }
  int metrics_port() const override { return metrics_endpoint_ != nullptr ? metrics_endpoint_->port() : 0; }

  void Shutdown(absl::Duration drain) override {
    // Report NOT_SERVING first and keep serving a moment, so load balancers and clients watching
    // health move away, and calls already queued reach a handler: gRPC's Shutdown cancels calls that
    // arrived but were not yet dispatched, and only calls inside a handler get the drain time.
    server_->GetHealthCheckService()->Shutdown();
    if (health_server_ != nullptr) health_server_->GetHealthCheckService()->Shutdown();
    absl::SleepFor(std::min(drain / 4, absl::Seconds(1)));
    server_->Shutdown(absl::ToChronoTime(absl::Now() + drain));
    if (health_server_ != nullptr) health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    if (!stopping_.HasBeenNotified()) stopping_.Notify();
  }

  void Wait() override {
    server_->Wait();
    if (health_server_ != nullptr) health_server_->Wait();
  }

 private:
  // Declared first, destroyed last: every metric below lives in it.
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Store> store_;  // The caller's store, timed.
  ServiceCore core_;
  TenantAuthenticator authenticator_;
  KeyDirectoryHandler key_directory_;
  GroupsHandler groups_;
  MailboxHandler mailbox_;
  StateBlobsHandler state_blobs_;
  observability::CallTenants call_tenants_;
  observability::RpcMetrics rpc_metrics_;
  observability::TenantUsageGauges tenant_usage_;
  std::unique_ptr<observability::MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
  absl::Notification stopping_;
  std::thread purger_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(const ServerOptions& options, Store* store) {
  auto server = std::make_unique<GrpcServer>(options, store);
  if (absl::Status started = server->Start(options); !started.ok()) return started;
  return server;
}

}  // namespace artd
