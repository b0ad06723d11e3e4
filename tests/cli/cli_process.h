// artd_cli as real processes for tests: each invocation runs with its own environment, its stdout
// and stderr kept apart (stdout is what a script would parse), a bound on its run time, and the
// means to stop it where a test wants it stopped (kill -9).
#ifndef TESTS_CLI_CLI_PROCESS_H_
#define TESTS_CLI_CLI_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace artd::testing {

// The artd_cli binary in this test's runfiles (the data dependency //client/cli:artd_cli).
std::string CliBinaryPath();

struct CliResult {
  int exit_code = -1;  // -1 when killed by a signal.
  std::string out;
  std::string err;
  // The command and what it printed, for failure messages.
  std::string Describe() const;
  std::string command;
};

class CliProcess {
 public:
  // Starts |argv| (argv[0] the binary) with exactly |env| ("NAME=value") as its environment.
  static absl::StatusOr<std::unique_ptr<CliProcess>> Start(std::vector<std::string> argv,
                                                           std::vector<std::string> env);
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  // Kills (SIGKILL) and reaps the process if it is still running.
  ~CliProcess();

  // Waits until stderr contains |text|; an error if the process ends first or |timeout| passes.
  absl::Status AwaitStderr(const std::string& text, absl::Duration timeout);
  // Waits for the exit and returns what the process printed; after |timeout| it is killed and the
  // wait is DEADLINE_EXCEEDED.
  absl::StatusOr<CliResult> Wait(absl::Duration timeout);
  // SIGKILL and reap: a crash at this instant.
  absl::Status KillDashNine();

 private:
  CliProcess() = default;
  void ReadOutput(int out_fd, int err_fd);

  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string command_;
  std::thread reader_;

  mutable absl::Mutex mu_;
  std::string out_ ABSL_GUARDED_BY(mu_);
  std::string err_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace artd::testing

#endif  // TESTS_CLI_CLI_PROCESS_H_
