// A Store decorator that times every call of the wrapped store into Prometheus, by operation name
// (the Store method's name): artd_storage_operation_duration_seconds{operation} and
// artd_storage_errors_total{operation} for failures that mean the database is in trouble
// (UNAVAILABLE, INTERNAL, UNKNOWN, DATA_LOSS, DEADLINE_EXCEEDED). Domain answers such as NOT_FOUND,
// ALREADY_EXISTS, ABORTED or RESOURCE_EXHAUSTED (a limit the store enforces) are not errors here.
#ifndef SERVICE_OBSERVABILITY_TIMED_STORE_H_
#define SERVICE_OBSERVABILITY_TIMED_STORE_H_

#include <prometheus/registry.h>

#include <memory>

#include "storage/store.h"

namespace artd::observability {

// Wraps |inner| (which must outlive the result); the families are added to |registry|.
std::unique_ptr<Store> NewTimedStore(Store* inner, prometheus::Registry& registry);

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_TIMED_STORE_H_
