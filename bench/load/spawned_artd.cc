#include "bench/load/spawned_artd.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <postgresql/libpq-fe.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "art/base/status_macros.h"

extern char** environ;

namespace artd::load {
namespace {

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

struct Child {
  pid_t pid = -1;
  int output = -1;  // Read end of the pipe that receives the child's |captured_fd|.
};

// Starts |argv| with its file descriptor |captured_fd| (1 or 2) connected to a pipe we read.
absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv, int captured_fd) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoError("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears FD_CLOEXEC on the copy, so only the child's |captured_fd| stays open.
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], captured_fd);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  Child child;
  const int rc = posix_spawn(&child.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(rc), " (build it, or pass --artd-binary)"));
  }
  child.output = pipe_fds[0];
  return child;
}

absl::Status WaitForExit(pid_t pid, const std::vector<std::string>& argv, const std::string& output) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return ErrnoError("waitpid");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("`", absl::StrJoin(argv, " "), "` failed (status ", status, "): ", output));
}

// Reads one line from |fd| (without its newline) within |timeout_ms|; false at end of file.
absl::StatusOr<bool> ReadLine(int fd, int timeout_ms, std::string* line) {
  line->clear();
  while (true) {
    pollfd poller{fd, POLLIN, 0};
    const int ready = poll(&poller, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ErrnoError("poll");
    if (ready == 0) return absl::DeadlineExceededError("artd printed nothing in time");
    char c;
    const ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read");
    if (n == 0) return !line->empty();
    if (c == '\n') return true;
    line->push_back(c);
  }
}

std::string TempDirectory() {
  // Bazel tests get their own scratch directory; by hand, TMPDIR or /tmp.
  for (const char* variable : {"TEST_TMPDIR", "TMPDIR"}) {
    const char* value = std::getenv(variable);
    if (value != nullptr && *value != '\0') return value;
  }
  return "/tmp";
}

// Runs one statement on the PostgreSQL server at |url| on a connection of its own.
absl::Status ExecutePostgres(const std::string& url, const std::string& sql) {
  PGconn* connection = PQconnectdb(url.c_str());
  absl::Status status;
  if (PQstatus(connection) != CONNECTION_OK) {
    status = absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", PQerrorMessage(connection)));
  } else {
    PGresult* result = PQexec(connection, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      status = absl::InternalError(absl::StrCat("`", sql, "`: ", PQresultErrorMessage(result)));
    }
    PQclear(result);
  }
  PQfinish(connection);
  return status;
}

// |url| naming |database| instead of its own: libpq (and so artd) lets a dbname parameter override
// the URL's path, which spares parsing the URL.
std::string WithDatabaseName(const std::string& url, const std::string& database) {
  return absl::StrCat(url, absl::StrContains(url, "?") ? "&" : "?", "dbname=", database);
}

}  // namespace

absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv) {
  absl::StatusOr<Child> child = Spawn(argv, STDOUT_FILENO);
  if (!child.ok()) return child.status();
  std::string output;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(child->output, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  close(child->output);
  if (absl::Status exited = WaitForExit(child->pid, argv, output); !exited.ok()) return exited;
  return output;
}

absl::StatusOr<std::string> RunAdmin(const std::string& artd_binary, const std::string& database,
                                     std::vector<std::string> command) {
  command.insert(command.begin(), {artd_binary, "admin", "--database", database});
  return RunCommand(command);
}

absl::StatusOr<double> ProcessCpuSeconds(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::stringstream contents;
  contents << file.rdbuf();
  const std::string stat = contents.str();
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return absl::NotFoundError(absl::StrCat("no /proc/", pid, "/stat"));
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  // Fields 14 and 15 (utime, stime) of proc(5), counted from field 3 here.
  uint64_t user = 0, system = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &user) || !absl::SimpleAtoi(fields[12], &system)) {
    return absl::DataLossError(absl::StrCat("unexpected /proc/", pid, "/stat"));
  }
  return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

absl::StatusOr<std::unique_ptr<LoadDatabase>> LoadDatabase::Create(const std::string& server_url) {
  std::unique_ptr<LoadDatabase> database(new LoadDatabase());
  if (server_url.empty()) {
    std::string pattern = TempDirectory() + "/artd_load.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return ErrnoError("mkdtemp " + pattern);
    database->directory_ = pattern;
    database->setting_ = database->directory_ + "/artd.db";
    return database;
  }
  if (!absl::StartsWith(server_url, "postgres://") && !absl::StartsWith(server_url, "postgresql://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--database-url ", server_url, " is not a postgres:// or postgresql:// URL"));
  }
  // The pid keeps concurrent runs on one server apart.
  const std::string name = absl::StrCat("artd_load_", getpid());
  ART_RETURN_IF_ERROR(ExecutePostgres(server_url, absl::StrCat("CREATE DATABASE ", name)));
  database->server_url_ = server_url;
  database->postgres_name_ = name;
  database->setting_ = WithDatabaseName(server_url, name);
  return database;
}

LoadDatabase::~LoadDatabase() {
  if (!postgres_name_.empty()) {
    // FORCE: a replica that did not stop in time must not keep the database alive.
    const absl::Status dropped =
        ExecutePostgres(server_url_, absl::StrCat("DROP DATABASE IF EXISTS ", postgres_name_, " WITH (FORCE)"));
    if (!dropped.ok()) std::fprintf(stderr, "artd_load: %s\n", dropped.ToString().c_str());
  }
  if (!directory_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
}

absl::StatusOr<std::unique_ptr<SpawnedArtd>> SpawnedArtd::Start(const std::string& artd_binary,
                                                                const std::string& tenant,
                                                                const std::string& credential_key_hex,
                                                                const std::string& database_url, int replicas) {
  if (replicas < 1) return absl::InvalidArgumentError("--replicas must be at least 1");
  if (replicas > 1 && database_url.empty()) {
    return absl::InvalidArgumentError("several --replicas share one database: they need --database-url");
  }
  std::unique_ptr<SpawnedArtd> server(new SpawnedArtd());
  ART_ASSIGN_OR_RETURN(server->database_, LoadDatabase::Create(database_url));
  const std::string& database = server->database_->setting();

  auto admin = [&](std::vector<std::string> command) { return RunAdmin(artd_binary, database, std::move(command)); };
  if (absl::StatusOr<std::string> created = admin({"create-tenant", "--tenant", tenant}); !created.ok()) {
    return created.status();
  }
  absl::StatusOr<std::string> issued = admin({"issue-key", "--tenant", tenant});
  if (!issued.ok()) return issued.status();
  for (absl::string_view line : absl::StrSplit(*issued, '\n')) {
    if (absl::ConsumePrefix(&line, "api_key ")) server->api_key_ = std::string(line);
  }
  if (server->api_key_.empty()) return absl::InternalError(absl::StrCat("no api_key in: ", *issued));
  absl::StatusOr<std::string> trusted =
      admin({"add-credential-key", "--tenant", tenant, "--public-key", credential_key_hex});
  if (!trusted.ok()) return trusted.status();

  for (int i = 0; i < replicas; ++i) ART_RETURN_IF_ERROR(server->StartReplica(artd_binary));
  return server;
}

absl::Status SpawnedArtd::StartReplica(const std::string& artd_binary) {
  const std::vector<std::string> serve = {artd_binary,  "serve",
                                          "--listen",   "127.0.0.1:0",
                                          "--database", database_->setting(),
                                          "--drain-seconds", "2",
                                          // One line per call would be echoed by this tool (its
                                          // CPU) and measure the terminal, not the service.
                                          "--access-log", "false"};
  absl::StatusOr<Child> child = Spawn(serve, STDERR_FILENO);
  if (!child.ok()) return child.status();
  // Registered before it is up, so that the destructor stops it whatever happens next.
  Replica& replica = replicas_.emplace_back();
  replica.pid = child->pid;
  // artd announces the port it bound on stderr: "artd: serving on port N with database F".
  std::string line, printed;
  while (replica.port == 0) {
    absl::StatusOr<bool> got = ReadLine(child->output, 30000, &line);
    if (!got.ok() || !*got) {
      close(child->output);
      return absl::InternalError(absl::StrCat("artd serve did not start: ", printed,
                                              got.ok() ? "" : got.status().ToString()));
    }
    printed += line + "\n";
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "artd: serving on port ")) {
      absl::string_view digits = rest.substr(0, rest.find(' '));
      if (!absl::SimpleAtoi(digits, &replica.port) || replica.port <= 0) {
        close(child->output);
        return absl::InternalError(absl::StrCat("cannot parse the port from: ", line));
      }
    }
  }
  // Keep draining artd's stderr so that it never blocks on a full pipe; show it, as artd only
  // logs starts, stops and errors.
  const int output = child->output;
  replica.stderr_forwarder = std::thread([output] {
    std::string text;
    while (true) {
      absl::StatusOr<bool> got = ReadLine(output, -1, &text);
      if (!got.ok() || !*got) break;
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    close(output);
  });
  return absl::OkStatus();
}

std::vector<std::string> SpawnedArtd::targets() const {
  std::vector<std::string> targets;
  for (const Replica& replica : replicas_) targets.push_back(absl::StrCat("127.0.0.1:", replica.port));
  return targets;
}

std::vector<pid_t> SpawnedArtd::pids() const {
  std::vector<pid_t> pids;
  for (const Replica& replica : replicas_) pids.push_back(replica.pid);
  return pids;
}

SpawnedArtd::~SpawnedArtd() {
  // All replicas drain at once, rather than one drain period after another.
  for (const Replica& replica : replicas_) kill(replica.pid, SIGTERM);
  for (Replica& replica : replicas_) {
    int status = 0;
    waitpid(replica.pid, &status, 0);
    if (replica.stderr_forwarder.joinable()) replica.stderr_forwarder.join();
  }
  // Only now: PostgreSQL refuses to drop a database that servers are still connected to.
  database_.reset();
}

}  // namespace artd::load
