// Per-tenant gauges of groups and members (artd_tenant_groups{tenant}, artd_tenant_members{tenant})
// and the tenant count (artd_tenants), refreshed by a background thread from Store::CountTenantUsage
// every interval, so a scrape never waits on the database. The tenant label is bounded: the
// |top_tenants| tenants with the most members (ties: most groups, then id) get their own series, the
// rest are summed under tenant="(other)", and series of tenants that fell out are removed.
#ifndef SERVICE_OBSERVABILITY_TENANT_USAGE_GAUGES_H_
#define SERVICE_OBSERVABILITY_TENANT_USAGE_GAUGES_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace artd::observability {

inline constexpr char kOtherTenantsLabel[] = "(other)";

class TenantUsageGauges {
 public:
  // Adds the families to |registry|; neither |store| nor |registry| may be destroyed before this.
  TenantUsageGauges(Store* store, prometheus::Registry& registry, size_t top_tenants);
  ~TenantUsageGauges();  // Stops the refresh thread.

  // Starts refreshing now and then every |interval|.
  void Start(absl::Duration interval);

  // One refresh (what the thread does): the store's error leaves the gauges as they were. Not to be
  // called once Start has been (the thread owns the series then).
  absl::Status Refresh();

 private:
  struct TenantSeries {
    prometheus::Gauge* groups;
    prometheus::Gauge* members;
  };

  Store* store_;
  size_t top_tenants_;
  prometheus::Family<prometheus::Gauge>& groups_;
  prometheus::Family<prometheus::Gauge>& members_;
  prometheus::Gauge& tenants_;
  prometheus::Counter& refresh_failures_;
  std::map<std::string, TenantSeries> series_;  // Only the refresh thread touches it.
  absl::Notification stopping_;
  std::thread refresher_;
};

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_TENANT_USAGE_GAUGES_H_
