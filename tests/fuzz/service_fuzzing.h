// A ServiceCore over a fresh in-memory SQLite store, as the service and stored-group fuzz targets drive
// it: one tenant (kTenant) with the given credential keys, and a clock fixed at a given instant.
#ifndef TESTS_FUZZ_SERVICE_FUZZING_H_
#define TESTS_FUZZ_SERVICE_FUZZING_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "service/core/service_core.h"
#include "storage/store.h"
#include "tests/fuzz/fuzz_inputs.pb.h"

namespace artd::fuzz {

struct FuzzedService {
  std::unique_ptr<Store> store;
  std::unique_ptr<ServiceCore> core;
};

// The store and the core over it; the tenant registered every key of |tenant_credential_keys| the
// store accepts (a malformed key is the tenant's problem, not the service's).
absl::StatusOr<FuzzedService> StartFuzzedService(
    const google::protobuf::RepeatedPtrField<std::string>& tenant_credential_keys, uint64_t now_unix_millis);

// Makes |call| (as the tenant kTenant) and returns its status.
absl::Status CallService(ServiceCore& core, const ServiceCall& call);

// Checks what a member relies on after the service accepted a setup or a commit for |group_id|: the
// full public state the service hands out loads as a member loads it (PublicGroup::FromProto, every
// credential and the tree hash), at the epoch the service reports.
void CheckServedStateLoads(ServiceCore& core, const std::string& group_id,
                           const google::protobuf::RepeatedPtrField<std::string>& tenant_credential_keys);

}  // namespace artd::fuzz

#endif  // TESTS_FUZZ_SERVICE_FUZZING_H_
