// The Prometheus scrape endpoint: an HTTP server (prometheus-cpp's civetweb exposer) serving the
// registry at /metrics in the text exposition format.
#ifndef SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_
#define SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_

#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace artd::observability {

class MetricsEndpoint {
 public:
  ~MetricsEndpoint();
  // The port actually bound (useful with port 0).
  int port() const { return port_; }

 private:
  friend absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartMetricsEndpoint(const std::string&,
                                                                               std::shared_ptr<prometheus::Registry>);
  MetricsEndpoint() = default;

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

// Serves |registry| at http://|listen_address|/metrics ("host:port", e.g. "0.0.0.0:9090"; port 0
// picks a free one). UNAVAILABLE when the address cannot be bound.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartMetricsEndpoint(const std::string& listen_address,
                                                                      std::shared_ptr<prometheus::Registry> registry);

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_METRICS_ENDPOINT_H_
