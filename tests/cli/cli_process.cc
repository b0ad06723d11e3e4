#include "tests/cli/cli_process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/process/artd_process.h"

namespace artd::testing {
namespace {

absl::Status ErrnoError(const std::string& what, int error) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

}  // namespace

std::string CliBinaryPath() {
  // In the same runfiles tree as the artd binary, whose path tests/process already works out.
  const std::string artd = ArtdBinaryPath();
  constexpr absl::string_view kArtd = "service/artd";
  return absl::StrCat(artd.substr(0, artd.size() - kArtd.size()), "client/cli/artd_cli");
}

std::string CliResult::Describe() const {
  return absl::StrCat("`", command, "` exit code ", exit_code, "\n--- stdout:\n", out, "--- stderr:\n", err);
}

absl::StatusOr<std::unique_ptr<CliProcess>> CliProcess::Start(std::vector<std::string> argv,
                                                              std::vector<std::string> env) {
  std::unique_ptr<CliProcess> process(new CliProcess());
  process->command_ = absl::StrJoin(argv, " ");
  // posix_spawn rather than fork: the test process may run gRPC threads, and a forked child of a
  // multithreaded process may only make async-signal-safe calls before exec.
  std::vector<char*> args, envp;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  for (std::string& var : env) envp.push_back(var.data());
  envp.push_back(nullptr);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return ErrnoError("pipe2", errno);
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return ErrnoError("pipe2", errno);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  const int spawned = posix_spawn(&process->pid_, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (spawned != 0) {
    close(out[0]);
    close(err[0]);
    return ErrnoError(absl::StrCat("posix_spawn ", argv[0]), spawned);
  }
  CliProcess* raw = process.get();
  process->reader_ = std::thread([raw, out_fd = out[0], err_fd = err[0]] { raw->ReadOutput(out_fd, err_fd); });
  return process;
}

void CliProcess::ReadOutput(int out_fd, int err_fd) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buffer[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;  // poll ignores negative descriptors.
        --open_fds;
        continue;
      }
      absl::MutexLock lock(&mu_);
      (i == 0 ? out_ : err_).append(buffer, static_cast<size_t>(n));
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

absl::Status CliProcess::AwaitStderr(const std::string& text, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto seen_or_closed = [this, &text]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || err_.find(text) != std::string::npos;
  };
  mu_.AwaitWithTimeout(absl::Condition(&seen_or_closed), timeout);
  if (err_.find(text) != std::string::npos) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat("`", command_, "` printed no \"", text, "\"",
                                                  closed_ ? " before it exited" : "", "; its stderr: ", err_));
}

absl::StatusOr<CliResult> CliProcess::Wait(absl::Duration timeout) {
  bool finished;
  {
    absl::MutexLock lock(&mu_);
    finished = mu_.AwaitWithTimeout(absl::Condition(&closed_), timeout);
  }
  if (!finished) kill(pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) < 0) return ErrnoError("waitpid", errno);
  reaped_ = true;
  reader_.join();
  CliResult result;
  result.command = command_;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  absl::MutexLock lock(&mu_);
  result.out = out_;
  result.err = err_;
  if (!finished) {
    return absl::DeadlineExceededError(
        absl::StrCat("still running after ", absl::FormatDuration(timeout), ": ", result.Describe()));
  }
  return result;
}

absl::Status CliProcess::KillDashNine() {
  if (reaped_) return absl::FailedPreconditionError("the process has already been reaped");
  if (kill(pid_, SIGKILL) != 0) return ErrnoError("kill", errno);
  absl::StatusOr<CliResult> result = Wait(absl::Seconds(10));
  if (!result.ok()) return result.status();
  if (result->exit_code != -1) {
    return absl::InternalError(absl::StrCat("exited before the kill: ", result->Describe()));
  }
  return absl::OkStatus();
}

CliProcess::~CliProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (reader_.joinable()) reader_.join();
}

}  // namespace artd::testing
