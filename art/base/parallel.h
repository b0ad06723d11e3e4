// A minimal parallel loop for embarrassingly parallel protocol work (the creator's setup).
#ifndef ART_BASE_PARALLEL_H_
#define ART_BASE_PARALLEL_H_

#include <cstddef>
#include <functional>

#include "absl/status/status.h"

namespace art {

// Runs |body(begin, end)| over disjoint ranges covering [0, count) on up to |threads| threads
// (0: one per core; small counts stay on the calling thread). Returns the first error any range
// returned, or OK.
absl::Status ParallelFor(size_t count, int threads,
                         const std::function<absl::Status(size_t begin, size_t end)>& body);

}  // namespace art

#endif  // ART_BASE_PARALLEL_H_
