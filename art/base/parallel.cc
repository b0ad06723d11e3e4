#include "art/base/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace art {

absl::Status ParallelFor(size_t count, int threads,
                         const std::function<absl::Status(size_t begin, size_t end)>& body) {
  // Below this many items a thread costs more than it saves.
  constexpr size_t kMinItemsPerThread = 16;
  size_t workers = threads > 0 ? static_cast<size_t>(threads)
                               : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, std::max<size_t>(1, count / kMinItemsPerThread));
  if (workers <= 1) return body(0, count);
  std::vector<absl::Status> results(workers);
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  const size_t chunk = (count + workers - 1) / workers;
  for (size_t worker = 1; worker < workers; ++worker) {
    const size_t begin = std::min(count, worker * chunk);
    const size_t end = std::min(count, begin + chunk);
    pool.emplace_back([&, worker, begin, end] { results[worker] = body(begin, end); });
  }
  results[0] = body(0, std::min(count, chunk));
  for (std::thread& thread : pool) thread.join();
  for (const absl::Status& result : results) {
    if (!result.ok()) return result;
  }
  return absl::OkStatus();
}

}  // namespace art
