#include "art/base/parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace art {

absl::Status ParallelFor(size_t count, int threads,
                         const std::function<absl::Status(size_t begin, size_t end)>& body) {
  // Below this many items a thread costs more than it saves; work is handed out in chunks of this
  // size from a shared counter, so a core slowed by other load takes fewer chunks instead of holding
  // everyone up with a fixed share.
  constexpr size_t kChunk = 16;
  size_t workers = threads > 0 ? static_cast<size_t>(threads)
                               : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, (count + kChunk - 1) / kChunk);
  if (workers <= 1) return body(0, count);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<absl::Status> results(workers);
  auto work = [&](size_t worker) {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t begin = next.fetch_add(kChunk);
      if (begin >= count) return;
      absl::Status status = body(begin, std::min(count, begin + kChunk));
      if (!status.ok()) {
        results[worker] = std::move(status);
        failed.store(true, std::memory_order_relaxed);
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t worker = 1; worker < workers; ++worker) pool.emplace_back(work, worker);
  work(0);
  for (std::thread& thread : pool) thread.join();
  for (const absl::Status& result : results) {
    if (!result.ok()) return result;
  }
  return absl::OkStatus();
}

}  // namespace art
