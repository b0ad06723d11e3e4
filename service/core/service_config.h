// The service's limits and policies, from flags or environment variables (see service/main.cc).
#ifndef SERVICE_CORE_SERVICE_CONFIG_H_
#define SERVICE_CORE_SERVICE_CONFIG_H_

#include <cstdint>
#include <functional>

namespace artd {

struct ServiceConfig {
  uint32_t max_group_size = 65536;
  uint32_t max_message_bytes = 64 * 1024;
  uint32_t max_one_time_prekeys_per_upload = 1000;
  uint32_t max_one_time_prekeys_stored = 10000;
  uint32_t max_list_limit = 1000;
  uint32_t max_state_blob_bytes = 4 * 1024 * 1024;
  // Requests per second per tenant (per replica); 0 disables the limit.
  uint32_t tenant_requests_per_second = 0;
  uint64_t message_ttl_millis = 7ull * 24 * 3600 * 1000;
  // How far a MemberAuth timestamp may be from the service's clock.
  uint64_t request_clock_skew_millis = 5 * 60 * 1000;
  // How long a replica remembers an API key it looked up; a revoked key stops working within this
  // time (0: look every key up on every call).
  uint32_t api_key_cache_millis = 2000;
  // How often a watch looks for events committed through other replicas.
  uint32_t watch_poll_interval_millis = 200;
  // The clock, in Unix milliseconds (tests replace it).
  std::function<uint64_t()> now_unix_millis;
};

}  // namespace artd

#endif  // SERVICE_CORE_SERVICE_CONFIG_H_
