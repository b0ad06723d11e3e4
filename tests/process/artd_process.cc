#include "tests/process/artd_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "art/crypto/bytes.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace artd::testing {
namespace {

constexpr char kServingOnPort[] = "artd: serving on port ";

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// A child process whose stdout and stderr both go to the pipe read from |output_fd| (the parent's
// end, close-on-exec so that no other child inherits it and keeps the pipe open after this child
// exits).
struct Child {
  pid_t pid = -1;
  int output_fd = -1;
};

// |file_size_limit|, when set, becomes the child's RLIMIT_FSIZE soft limit, with SIGXFSZ ignored.
absl::StatusOr<Child> SpawnWithOutputPipe(const std::vector<std::string>& args,
                                          std::optional<rlim_t> file_size_limit = std::nullopt) {
  // Everything the child needs is prepared before fork: between fork and exec this process may only
  // make async-signal-safe calls, since gRPC's threads may hold locks (malloc's among them).
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  rlimit file_size{};
  if (file_size_limit.has_value()) {
    if (getrlimit(RLIMIT_FSIZE, &file_size) != 0) return ErrnoError("getrlimit");
    file_size.rlim_cur = std::min(*file_size_limit, file_size.rlim_max);
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return ErrnoError("fork");
  }
  if (pid == 0) {
    // A test that dies (or times out) must not leave a server holding its port and database. The
    // death signal follows the thread that forked: servers are started from the test's main thread.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(fds[1], STDOUT_FILENO) < 0 ||
        dup2(fds[1], STDERR_FILENO) < 0) {
      _exit(127);
    }
    // The server waits for SIGTERM with sigwait: give it default dispositions and an empty mask
    // whatever this thread had.
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // An ignored disposition survives exec: a write past the limit then fails with EFBIG.
    if (file_size_limit.has_value() &&
        (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || setrlimit(RLIMIT_FSIZE, &file_size) != 0)) {
      _exit(127);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  return Child{pid, fds[0]};
}

// Reads |fd| to its end; false if |deadline| came first.
bool ReadToEnd(int fd, absl::Time deadline, std::string* out) {
  char buffer[4096];
  for (;;) {
    const int64_t remaining_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (remaining_ms <= 0) return false;
    pollfd readable{fd, POLLIN, 0};
    const int ready = poll(&readable, 1, static_cast<int>(std::min<int64_t>(remaining_ms, INT_MAX)));
    if (ready <= 0) continue;  // EINTR or the deadline: the loop's check decides.
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out->append(buffer, static_cast<size_t>(n));
  }
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

}  // namespace

std::string RunfilePath(const std::string& path) {
  // The test runs in its runfiles root (of workspace "artd"); $TEST_SRCDIR names that tree's parent
  // when the test is run some other way.
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) return path;
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir, "/", workspace != nullptr ? workspace : "artd", "/", path);
}

std::string ArtdBinaryPath() { return RunfilePath("service/artd"); }

absl::StatusOr<CommandOutcome> RunToEnd(const std::vector<std::string>& command, absl::Duration timeout) {
  absl::StatusOr<Child> child = SpawnWithOutputPipe(command);
  if (!child.ok()) return child.status();
  CommandOutcome outcome;
  const bool finished = ReadToEnd(child->output_fd, absl::Now() + timeout, &outcome.output);
  close(child->output_fd);
  if (!finished) kill(child->pid, SIGKILL);
  if (waitpid(child->pid, &outcome.wait_status, 0) < 0) return ErrnoError("waitpid");
  if (!finished) {
    return absl::DeadlineExceededError(absl::StrCat("`", absl::StrJoin(command, " "), "` timed out after ",
                                                    absl::FormatDuration(timeout), ": ", outcome.output));
  }
  return outcome;
}

absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& command, absl::Duration timeout) {
  absl::StatusOr<CommandOutcome> outcome = RunToEnd(command, timeout);
  if (!outcome.ok()) return outcome.status();
  const int status = outcome->wait_status;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat("`", absl::StrJoin(command, " "), "` ", DescribeWaitStatus(status), ": ", outcome->output));
  }
  return std::move(outcome->output);
}

absl::StatusOr<std::string> RunAdmin(const std::string& database, const std::vector<std::string>& args,
                                     absl::Duration timeout) {
  std::vector<std::string> command = {ArtdBinaryPath(), "admin", "--database", database};
  command.insert(command.end(), args.begin(), args.end());
  return RunCommand(command, timeout);
}

absl::StatusOr<ProvisionedTenant> ProvisionTenant(const std::string& database, const std::string& tenant_id) {
  ProvisionedTenant tenant{tenant_id, "", art::testing::TestTenant(tenant_id)};
  absl::StatusOr<std::string> output = RunAdmin(database, {"create-tenant", "--tenant", tenant_id});
  if (!output.ok()) return output.status();
  output = RunAdmin(database, {"issue-key", "--tenant", tenant_id});
  if (!output.ok()) return output.status();
  for (absl::string_view line : absl::StrSplit(*output, '\n')) {
    if (absl::ConsumePrefix(&line, "api_key ")) tenant.api_key = std::string(line);
  }
  if (tenant.api_key.empty()) return absl::InternalError(absl::StrCat("issue-key printed no api_key: ", *output));
  const art::Ed25519PublicKey& public_key = tenant.authority.credential_key().public_key();
  output = RunAdmin(database, {"add-credential-key", "--tenant", tenant_id, "--public-key", art::ToHex(public_key)});
  if (!output.ok()) return output.status();
  return tenant;
}

absl::StatusOr<std::unique_ptr<ArtdProcess>> ArtdProcess::Start(Options options) {
  std::unique_ptr<ArtdProcess> process(new ArtdProcess(std::move(options)));
  if (absl::Status spawned = process->Spawn(); !spawned.ok()) return spawned;
  if (absl::Status serving = process->AwaitServing(); !serving.ok()) return serving;
  return process;
}

absl::Status ArtdProcess::Spawn() {
  std::vector<std::string> command = {ArtdBinaryPath(), "serve", "--listen", options_.listen_address,
                                      "--database", options_.database};
  command.insert(command.end(), options_.extra_args.begin(), options_.extra_args.end());
  absl::StatusOr<Child> child = SpawnWithOutputPipe(command, options_.file_size_limit);
  if (!child.ok()) return child.status();
  pid_ = child->pid;
  stderr_reader_ = std::thread([this, fd = child->output_fd] { ReadStderr(fd); });
  return absl::OkStatus();
}

void ArtdProcess::ReadStderr(int fd) {
  const int log_fd = options_.stderr_log_path.empty()
                         ? -1
                         : open(options_.stderr_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    // A short log would make a scan of it meaningless: keep such a failure visible in the text.
    const bool logged = log_fd < 0 || write(log_fd, buffer, static_cast<size_t>(n)) == n;
    absl::MutexLock lock(&mu_);
    stderr_text_.append(buffer, static_cast<size_t>(n));
    if (!logged) stderr_text_ += "\n[artd_process: writing the log copy failed]\n";
    if (port_ != 0) continue;
    // The line is complete once its newline has arrived.
    const size_t start = stderr_text_.find(kServingOnPort);
    if (start == std::string::npos) continue;
    const size_t digits = start + std::strlen(kServingOnPort);
    const size_t end = stderr_text_.find_first_not_of("0123456789", digits);
    if (end == std::string::npos || stderr_text_.find('\n', end) == std::string::npos) continue;
    int port = 0;
    if (absl::SimpleAtoi(stderr_text_.substr(digits, end - digits), &port)) port_ = port;
  }
  if (log_fd >= 0) close(log_fd);
  close(fd);
  absl::MutexLock lock(&mu_);
  stderr_closed_ = true;
}

absl::Status ArtdProcess::AwaitServing() {
  const absl::Time deadline = absl::Now() + options_.startup_timeout;
  int port = 0;
  {
    absl::MutexLock lock(&mu_);
    auto port_or_exit = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return port_ != 0 || stderr_closed_; };
    mu_.AwaitWithDeadline(absl::Condition(&port_or_exit), deadline);
    if (port_ == 0) {
      return absl::UnavailableError(absl::StrCat("artd serve printed no port", stderr_closed_ ? " and exited" : "",
                                                 "; its output: ", stderr_text_));
    }
    port = port_;
  }
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  std::unique_ptr<grpc::health::v1::Health::Stub> health = grpc::health::v1::Health::NewStub(channel_);
  // The health check is a remote condition: poll it, backing off, until the deadline. Waiting on
  // stderr_closed_ between polls ends the wait at once if the server dies.
  absl::Duration backoff = absl::Milliseconds(2);
  for (;;) {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Seconds(1))));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    if (status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::OkStatus();
    }
    absl::MutexLock lock(&mu_);
    if (absl::Now() >= deadline || mu_.AwaitWithTimeout(absl::Condition(&stderr_closed_), backoff)) {
      return absl::UnavailableError(absl::StrCat("artd serve on port ", port, " is not SERVING (last check: ",
                                                 status.error_message(), "); its output: ", stderr_text_));
    }
    backoff = std::min(backoff * 2, absl::Milliseconds(100));
  }
}

ArtdProcess::~ArtdProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &wait_status_, 0);
  }
  if (stderr_reader_.joinable()) stderr_reader_.join();
}

int ArtdProcess::port() const {
  absl::MutexLock lock(&mu_);
  return port_;
}

absl::Status ArtdProcess::Signal(int signal) {
  if (reaped_) return absl::FailedPreconditionError("the server has already exited");
  if (kill(pid_, signal) != 0) return ErrnoError(absl::StrCat("kill ", pid_));
  return absl::OkStatus();
}

absl::StatusOr<int> ArtdProcess::WaitForExit(absl::Duration timeout) {
  if (reaped_) return wait_status_;
  {
    // The server's stderr closes when it exits: await that rather than polling waitpid.
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&stderr_closed_), timeout)) {
      return absl::DeadlineExceededError(
          absl::StrCat("artd (pid ", pid_, ") still runs after ", absl::FormatDuration(timeout)));
    }
  }
  if (waitpid(pid_, &wait_status_, 0) < 0) return ErrnoError("waitpid");
  reaped_ = true;
  stderr_reader_.join();
  return wait_status_;
}

absl::Status ArtdProcess::KillDashNine() {
  if (absl::Status sent = Signal(SIGKILL); !sent.ok()) return sent;
  absl::StatusOr<int> status = WaitForExit(absl::Seconds(10));
  if (!status.ok()) return status.status();
  if (!WIFSIGNALED(*status) || WTERMSIG(*status) != SIGKILL) {
    return absl::InternalError(absl::StrCat("after SIGKILL artd ", DescribeWaitStatus(*status)));
  }
  return absl::OkStatus();
}

absl::Status ArtdProcess::SetFileSizeLimit(rlim_t bytes) {
  if (reaped_) return absl::FailedPreconditionError("the server has already exited");
  rlimit limit{};
  if (prlimit(pid_, RLIMIT_FSIZE, nullptr, &limit) != 0) return ErrnoError(absl::StrCat("prlimit ", pid_));
  limit.rlim_cur = std::min(bytes, limit.rlim_max);
  if (prlimit(pid_, RLIMIT_FSIZE, &limit, nullptr) != 0) return ErrnoError(absl::StrCat("prlimit ", pid_));
  return absl::OkStatus();
}

std::string ArtdProcess::StderrText() const {
  absl::MutexLock lock(&mu_);
  return stderr_text_;
}

}  // namespace artd::testing
