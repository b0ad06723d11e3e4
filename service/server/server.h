// Assembles a running artd server: storage, core, handlers, health checking and reflection.
// Used by the artd binary and by in-process tests.
#ifndef SERVICE_SERVER_SERVER_H_
#define SERVICE_SERVER_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/service_config.h"
#include "service/observability/log_line.h"
#include "service/observability/log_sink.h"
#include "storage/store.h"

namespace artd {

// TLS on the gRPC port. No certificate: plaintext.
struct TlsOptions {
  std::string cert_file;  // PEM certificate chain of the server.
  std::string key_file;   // PEM private key of the server.
  // PEM CAs that client certificates must chain to. Set: a client certificate, when presented, is
  // verified and, when bound to a tenant, authenticates calls without an API key.
  std::string client_ca_file;
  bool require_client_cert = false;  // Refuse TLS clients without a valid certificate (needs the CA).
};

struct ObservabilityOptions {
  std::string metrics_listen;  // "host:port" of the Prometheus endpoint (/metrics); empty: none.
  observability::LogFormat log_format = observability::LogFormat::kJson;
  // Access log lines go here (nullptr: stderr) unless disabled. Must outlive the server.
  bool access_log_enabled = true;
  observability::LogSink* access_log = nullptr;
  // The tenant gauges: refresh interval and how many tenants get their own series.
  absl::Duration tenant_metrics_interval = absl::Seconds(30);
  size_t tenant_metrics_top = 20;
};

struct ServerOptions {
  std::string listen_address = "127.0.0.1:50051";
  TlsOptions tls;
  // Also serve the gRPC health service alone, in plaintext, here ("host:port"; empty: not). For probes
  // that cannot speak TLS (Kubernetes' native gRPC probes) when the main port does.
  std::string health_listen_address;
  ObservabilityOptions observability;
  ServiceConfig service;
  uint32_t max_receive_message_bytes = 64 * 1024 * 1024;
  // How often expired messages and nonces are deleted.
  absl::Duration purge_interval = absl::Minutes(1);
};

class RunningServer {
 public:
  virtual ~RunningServer() = default;
  // The port actually bound (useful with a ":0" listen address).
  virtual int port() const = 0;
  // The port of the plaintext health endpoint, 0 when there is none.
  virtual int health_port() const = 0;
  // The port of the metrics endpoint, 0 when there is none.
  virtual int metrics_port() const = 0;
  // Stops accepting calls, lets in-flight calls finish for up to |drain|, then cancels the rest.
  virtual void Shutdown(absl::Duration drain) = 0;
  // Blocks until the server has shut down.
  virtual void Wait() = 0;
};

// Starts serving |store| (which must outlive the server).
absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(const ServerOptions& options, Store* store);

}  // namespace artd

#endif  // SERVICE_SERVER_SERVER_H_
