#include "service/observability/log_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace artd::observability {
namespace {

class AppendFileLogSink final : public LogSink {
 public:
  explicit AppendFileLogSink(int fd) : fd_(fd), sink_(fd) {}
  ~AppendFileLogSink() override { ::close(fd_); }
  void Write(std::string_view line) override { sink_.Write(line); }

 private:
  int fd_;
  FdLogSink sink_;
};

}  // namespace

void FdLogSink::Write(std::string_view line) {
  // A logging failure cannot be reported anywhere useful: the line is dropped.
  while (!line.empty()) {
    const ssize_t written = ::write(fd_, line.data(), line.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    line.remove_prefix(static_cast<size_t>(written));
  }
}

LogSink& StderrLogSink() {
  static FdLogSink* const sink = new FdLogSink(STDERR_FILENO);
  return *sink;
}

absl::StatusOr<std::unique_ptr<LogSink>> OpenAppendLogSink(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  return std::make_unique<AppendFileLogSink>(fd);
}

}  // namespace artd::observability
