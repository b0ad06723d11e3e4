// Requests into the service, as the gRPC handlers forward them once the tenant is authenticated: a
// sequence of calls to ServiceCore over a fresh in-memory SQLite store. Every accepted setup and commit
// must leave a public state that members can load.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/service_fuzzing.h"

namespace {

// Enough for a whole session (the seeds); more would only slow each input down.
constexpr int kMaxCalls = 32;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace artd::fuzz;
  ServiceInput input;
  if (!ParseInput(data, size, &input) || input.calls_size() > kMaxCalls) return 0;
  absl::StatusOr<FuzzedService> service =
      StartFuzzedService(input.tenant_credential_keys(), input.now_unix_millis());
  Check(service.ok(), "cannot start the service");
  for (const ServiceCall& call : input.calls()) {
    if (!CallService(*service->core, call).ok()) continue;
    if (call.has_create_group()) {
      CheckServedStateLoads(*service->core, call.create_group().setup().group_id(),
                            input.tenant_credential_keys());
    } else if (call.has_submit_commit()) {
      CheckServedStateLoads(*service->core, call.submit_commit().commit().group_id(),
                            input.tenant_credential_keys());
    }
  }
  return 0;
}
