#include "service/observability/metrics_endpoint.h"

#include <prometheus/exposer.h>

#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"

namespace artd::observability {

MetricsEndpoint::~MetricsEndpoint() = default;

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartMetricsEndpoint(const std::string& listen_address,
                                                                      std::shared_ptr<prometheus::Registry> registry) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  // prometheus-cpp reports a failed bind by throwing; it is turned into a status here.
  try {
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(listen_address, /*num_threads=*/2);
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", listen_address, ": ", error.what()));
  }
  endpoint->exposer_->RegisterCollectable(registry, "/metrics");
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", listen_address));
  endpoint->port_ = ports.front();
  return endpoint;
}

}  // namespace artd::observability
