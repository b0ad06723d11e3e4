#include "service/observability/tenant_usage_gauges.h"

#include <algorithm>
#include <tuple>

namespace artd::observability {

TenantUsageGauges::TenantUsageGauges(Store* store, prometheus::Registry& registry, size_t top_tenants)
    : store_(store),
      top_tenants_(top_tenants),
      groups_(prometheus::BuildGauge()
                  .Name("artd_tenant_groups")
                  .Help("Groups per tenant (the largest tenants by members; the rest under tenant=\"(other)\")")
                  .Register(registry)),
      members_(prometheus::BuildGauge()
                   .Name("artd_tenant_members")
                   .Help("Occupied leaves over a tenant's groups at their current epochs (as artd_tenant_groups)")
                   .Register(registry)),
      tenants_(
          prometheus::BuildGauge().Name("artd_tenants").Help("Tenants in the database").Register(registry).Add({})),
      refresh_failures_(prometheus::BuildCounter()
                            .Name("artd_tenant_usage_refresh_failures_total")
                            .Help("Refreshes of the tenant gauges that failed to read the database")
                            .Register(registry)
                            .Add({})) {}

TenantUsageGauges::~TenantUsageGauges() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (refresher_.joinable()) refresher_.join();
}

void TenantUsageGauges::Start(absl::Duration interval) {
  refresher_ = std::thread([this, interval] {
    do {
      if (!Refresh().ok()) refresh_failures_.Increment();
    } while (!stopping_.WaitForNotificationWithTimeout(interval));
  });
}

absl::Status TenantUsageGauges::Refresh() {
  absl::StatusOr<std::vector<TenantUsage>> usage = store_->CountTenantUsage();
  if (!usage.ok()) return usage.status();
  std::vector<TenantUsage>& tenants = *usage;
  const auto largest_first = [](const TenantUsage& a, const TenantUsage& b) {
    return std::make_tuple(b.members, b.groups, a.tenant_id) < std::make_tuple(a.members, a.groups, b.tenant_id);
  };
  const size_t shown = std::min(top_tenants_, tenants.size());
  std::partial_sort(tenants.begin(), tenants.begin() + shown, tenants.end(), largest_first);

  std::map<std::string, TenantUsage> wanted;
  for (size_t i = 0; i < shown; ++i) wanted[tenants[i].tenant_id] = tenants[i];
  if (tenants.size() > shown) {
    TenantUsage& other = wanted[kOtherTenantsLabel];
    for (size_t i = shown; i < tenants.size(); ++i) {
      other.groups += tenants[i].groups;
      other.members += tenants[i].members;
    }
  }
  for (auto it = series_.begin(); it != series_.end();) {
    if (wanted.count(it->first) != 0) {
      ++it;
      continue;
    }
    groups_.Remove(it->second.groups);
    members_.Remove(it->second.members);
    it = series_.erase(it);
  }
  for (const auto& [tenant, counts] : wanted) {
    auto [it, added] = series_.try_emplace(tenant);
    if (added) {
      it->second = TenantSeries{&groups_.Add({{"tenant", tenant}}), &members_.Add({{"tenant", tenant}})};
    }
    it->second.groups->Set(static_cast<double>(counts.groups));
    it->second.members->Set(static_cast<double>(counts.members));
  }
  tenants_.Set(static_cast<double>(tenants.size()));
  return absl::OkStatus();
}

}  // namespace artd::observability
