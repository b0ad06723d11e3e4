// Where log lines go: a file descriptor (stderr by default) or a file opened for appending.
#ifndef SERVICE_OBSERVABILITY_LOG_SINK_H_
#define SERVICE_OBSERVABILITY_LOG_SINK_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace artd::observability {

class LogSink {
 public:
  virtual ~LogSink() = default;
  // Writes one complete line. Safe to call from any number of threads; lines are not interleaved.
  virtual void Write(std::string_view line) = 0;
};

// Writes straight to a file descriptor with write(2), one call per line and no lock of ours, so
// concurrent lines (each below PIPE_BUF) stay whole. The descriptor is not closed.
class FdLogSink final : public LogSink {
 public:
  explicit FdLogSink(int fd) : fd_(fd) {}
  void Write(std::string_view line) override;

 private:
  int fd_;
};

// The process's stderr.
LogSink& StderrLogSink();

// Opens (creating, mode 0600) |path| for appending; the sink closes it when destroyed.
absl::StatusOr<std::unique_ptr<LogSink>> OpenAppendLogSink(const std::string& path);

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_LOG_SINK_H_
