// The artd binary as real processes, for tests that need what an in-process server cannot give: two
// servers on one database file, a crash (SIGKILL) or an operator's stop (SIGTERM) in the middle of
// calls, and the bytes the service leaves on disk and in its log.
//
// ProvisionTenant sets a database up the way an operator would, through `artd admin`; ArtdProcess
// runs `artd serve` on a port the kernel picks, learns the port from the server's stderr and returns
// once the server's health check answers SERVING.
#ifndef TESTS_PROCESS_ARTD_PROCESS_H_
#define TESTS_PROCESS_ARTD_PROCESS_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "art/testing/group_fixture.h"
#include "tests/service/service_harness.h"  // TempPath: a fresh path under $TEST_TMPDIR.

namespace artd::testing {

// The file at |path| (from the workspace root, e.g. "service/artd") in this test's runfiles: a data
// dependency of the test.
std::string RunfilePath(const std::string& path);

// The artd binary in this test's runfiles (the test's data dependency //service:artd).
std::string ArtdBinaryPath();

// How a command run to its end ended: its wait status (see waitpid(2)) and everything it printed
// (stdout and stderr together).
struct CommandOutcome {
  int wait_status = 0;
  std::string output;
};

// Runs |command| (an absolute path and its arguments) to its end, however it ends (a crash too);
// DEADLINE_EXCEEDED, quoting its output, if it runs longer than |timeout| (it is killed then). Call
// it from the test's main thread: the child dies with the thread that started it.
absl::StatusOr<CommandOutcome> RunToEnd(const std::vector<std::string>& command, absl::Duration timeout);

// Runs |command| (an absolute path and its arguments) and returns what it printed (stdout and
// stderr together). An exit status other than 0, or a run longer than |timeout|, is an error that
// quotes the output. Call it from the test's main thread: the child dies with the thread that
// started it.
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& command, absl::Duration timeout);

// Runs `artd admin --database |database| |args|...` as RunCommand does.
absl::StatusOr<std::string> RunAdmin(const std::string& database, const std::vector<std::string>& args,
                                     absl::Duration timeout = absl::Seconds(30));

// A tenant created through `artd admin`: its API key, and the authority that certifies its members,
// whose credential key the database trusts.
struct ProvisionedTenant {
  std::string tenant_id;
  std::string api_key;
  art::testing::TestTenant authority;
};

// Creates |tenant_id| in |database|, issues it an API key and registers a fresh TestTenant's
// credential public key, all with `artd admin`.
absl::StatusOr<ProvisionedTenant> ProvisionTenant(const std::string& database, const std::string& tenant_id);

// One `artd serve` process. The destructor kills (SIGKILL) and reaps it if it is still running, so a
// failing test leaves no server behind.
class ArtdProcess {
 public:
  struct Options {
    std::string database;
    // Where it listens; port 0: one the kernel picks. A server restarted on its predecessor's port
    // is found again by the predecessor's clients, as behind a load balancer.
    std::string listen_address = "127.0.0.1:0";
    // More `artd serve` flags, e.g. {"--drain-seconds", "5"}.
    std::vector<std::string> extra_args;
    // Non-empty: the server's stderr is also appended to this file, as a deployment's log would be.
    std::string stderr_log_path;
    // How long the server may take to print its port and answer its health check.
    absl::Duration startup_timeout = absl::Seconds(30);
    // Set: the server may write no file past this many bytes (RLIMIT_FSIZE's soft limit; the hard
    // limit stays as it was), and SIGXFSZ is ignored, so such a write fails with EFBIG as on a full
    // disk instead of killing the server. SetFileSizeLimit moves the limit later.
    std::optional<rlim_t> file_size_limit;
  };

  // Starts the server and waits until it is SERVING.
  static absl::StatusOr<std::unique_ptr<ArtdProcess>> Start(Options options);

  ArtdProcess(const ArtdProcess&) = delete;
  ArtdProcess& operator=(const ArtdProcess&) = delete;
  ~ArtdProcess();

  pid_t pid() const { return pid_; }
  int port() const;
  const Options& options() const { return options_; }
  // A channel to this server, shared by every stub made for it.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // Sends |signal| to the server (SIGTERM to drain and stop, SIGKILL to crash it).
  absl::Status Signal(int signal);
  // Waits until the server has exited and returns its wait status (see waitpid(2)):
  // DEADLINE_EXCEEDED if it is still running after |timeout|.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);
  // SIGKILL, then waits for the exit: a crash at an arbitrary instant.
  absl::Status KillDashNine();
  // Sets the server's RLIMIT_FSIZE soft limit (RLIM_INFINITY: none), as `prlimit --pid` does: to
  // fill its "disk" and to free it again, without a restart. Start it with |file_size_limit| set,
  // or a write past the limit kills it (SIGXFSZ).
  absl::Status SetFileSizeLimit(rlim_t bytes);
  // Everything the server wrote to stderr so far.
  std::string StderrText() const;

 private:
  explicit ArtdProcess(Options options) : options_(std::move(options)) {}

  absl::Status Spawn();
  // Reads the server's stderr until it closes (the process exited): keeps the text, copies it to the
  // log file, and notes the port from the "serving on port N" line.
  void ReadStderr(int fd);
  absl::Status AwaitServing();

  Options options_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  std::thread stderr_reader_;
  std::shared_ptr<grpc::Channel> channel_;

  mutable absl::Mutex mu_;
  std::string stderr_text_ ABSL_GUARDED_BY(mu_);
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  bool stderr_closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace artd::testing

#endif  // TESTS_PROCESS_ARTD_PROCESS_H_
