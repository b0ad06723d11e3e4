#include "tests/process/postgres_server.h"

#include <postgresql/libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/process/artd_process.h"

namespace artd::testing {
namespace {

constexpr char kRunuser[] = "/usr/sbin/runuser";
constexpr absl::Duration kPgCtlTimeout = absl::Seconds(45);

// |url| naming |database| instead: libpq lets a dbname parameter after the path override it, so the
// URL need not be taken apart.
std::string WithDatabase(const std::string& url, const std::string& database) {
  return absl::StrCat(url, absl::StrContains(url, "?") ? "&" : "?", "dbname=", database);
}

}  // namespace

std::string PostgresServerUrl() {
  const char* url = std::getenv(kPostgresServerVariable);
  return url != nullptr ? url : "";
}

absl::StatusOr<std::string> QueryValue(const std::string& url, const std::string& sql) {
  PGconn* connection = PQconnectdb(url.c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    const std::string error = PQerrorMessage(connection);
    PQfinish(connection);
    return absl::UnavailableError(absl::StrCat("connecting to ", url, ": ", error));
  }
  PGresult* result = PQexec(connection, sql.c_str());
  absl::StatusOr<std::string> value;
  const ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_TUPLES_OK) {
    value = PQntuples(result) > 0 ? std::string(PQgetvalue(result, 0, 0)) : std::string();
  } else if (status == PGRES_COMMAND_OK) {
    value = std::string();
  } else {
    value = absl::InternalError(absl::StrCat("`", sql, "`: ", PQresultErrorMessage(result)));
  }
  PQclear(result);
  PQfinish(connection);
  return value;
}

// ---- ScratchDatabase ----

ScratchDatabase::ScratchDatabase(std::string server_url, std::string name)
    : server_url_(std::move(server_url)), name_(std::move(name)), url_(WithDatabase(server_url_, name_)) {}

absl::StatusOr<std::unique_ptr<ScratchDatabase>> ScratchDatabase::Create(const std::string& server_url) {
  // Unique across the test processes sharing the server: the pid, a counter, and the time for pids
  // reused across runs whose databases were left behind.
  static std::atomic<int> counter{0};
  const std::string name =
      absl::StrCat("artd_process_", getpid(), "_", counter++, "_", absl::ToUnixMicros(absl::Now()) % 1000000);
  // A generated name: identifiers cannot be parameters.
  absl::StatusOr<std::string> created = QueryValue(server_url, absl::StrCat("CREATE DATABASE ", name));
  if (!created.ok()) return created.status();
  return std::unique_ptr<ScratchDatabase>(new ScratchDatabase(server_url, name));
}

ScratchDatabase::~ScratchDatabase() {
  // A leftover database is only clutter on a scratch server: nothing to fail the test for.
  (void)QueryValue(server_url_, absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
}

// ---- PostgresCluster ----

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Find(const std::string& server_url) {
  std::unique_ptr<PostgresCluster> cluster(new PostgresCluster());
  cluster->server_url_ = server_url;
  absl::StatusOr<std::string> data_directory = QueryValue(server_url, "SHOW data_directory");
  if (!data_directory.ok()) return data_directory.status();
  cluster->data_directory_ = *data_directory;

  // postmaster.opts holds the server's command line: the binary (pg_ctl is beside it), then each
  // argument in double quotes, ready for pg_ctl -o (which passes it through the shell).
  const std::string opts_path = absl::StrCat(cluster->data_directory_, "/postmaster.opts");
  std::ifstream opts_file(opts_path);
  std::stringstream opts;
  opts << opts_file.rdbuf();
  if (!opts_file || opts.str().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", opts_path, " (is the server ", server_url,
                                                      " on another machine?)"));
  }
  const std::string command_line = std::string(absl::StripAsciiWhitespace(opts.str()));
  const size_t binary_end = command_line.find(' ');
  const std::string binary = command_line.substr(0, binary_end);
  cluster->pg_ctl_ = absl::StrCat(binary.substr(0, binary.rfind('/') + 1), "pg_ctl");
  if (access(cluster->pg_ctl_.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("no pg_ctl beside the server binary ", binary));
  }
  // pg_ctl passes -D itself.
  std::string arguments = binary_end == std::string::npos ? "" : command_line.substr(binary_end + 1);
  const std::string data_argument = absl::StrCat("\"-D\" \"", cluster->data_directory_, "\"");
  if (const size_t at = arguments.find(data_argument); at != std::string::npos) arguments.erase(at, data_argument.size());
  cluster->server_options_ = std::string(absl::StripAsciiWhitespace(arguments));
  // The starter's script quotes paths and options in single quotes.
  if (absl::StrContains(cluster->server_options_, "'") || absl::StrContains(cluster->data_directory_, "'")) {
    return absl::FailedPreconditionError(absl::StrCat("a quote in the server's command line: ", command_line));
  }

  // pg_ctl refuses to run as root: as root, run it as the owner of the data directory.
  struct stat data_stat;
  if (stat(cluster->data_directory_.c_str(), &data_stat) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot stat ", cluster->data_directory_));
  }
  cluster->owner_ = data_stat.st_uid;
  if (geteuid() == 0) {
    const passwd* user = getpwuid(cluster->owner_);
    if (user == nullptr) return absl::FailedPreconditionError(absl::StrCat("no user ", cluster->owner_));
    cluster->as_owner_ = {kRunuser, "-u", user->pw_name, "--"};
  } else if (cluster->owner_ != geteuid()) {
    return absl::FailedPreconditionError(
        absl::StrCat(cluster->data_directory_, " belongs to another user: this test cannot run pg_ctl on it"));
  }
  return cluster;
}

PostgresCluster::~PostgresCluster() {
  if (!stopped_) return;
  if (absl::Status started = Start(); !started.ok()) {
    // Nothing more can be done here (the starter tries once more on its own within a minute); say
    // loudly why later tests of the server may fail.
    fprintf(stderr, "PostgresCluster: could not start the server in %s again: %s\n", data_directory_.c_str(),
            started.ToString().c_str());
  }
}

absl::Status PostgresCluster::ArmStarter() {
  // Under /tmp, not $TEST_TMPDIR: the owner must reach it.
  std::string directory = "/tmp/artd-postgres-starter.XXXXXX";
  if (mkdtemp(directory.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  if (geteuid() == 0 && chown(directory.c_str(), owner_, static_cast<gid_t>(-1)) != 0) {
    return absl::InternalError(absl::StrCat("chown ", directory, " failed"));
  }
  starter_directory_ = directory;
  // Polls for the go-ahead (a file this process writes), since the starter shares nothing else with
  // the test; after a minute it goes ahead anyway. Then records pg_ctl's exit status.
  std::ofstream script(absl::StrCat(directory, "/starter.sh"));
  script << "i=0\n"
         << "while [ ! -e '" << directory << "/go' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done\n"
         << "'" << pg_ctl_ << "' start -D '" << data_directory_ << "' -l '" << data_directory_
         << "/server.log' -w -t 30 -o '" << server_options_ << "' >'" << directory << "/starter.log' 2>&1\n"
         << "echo $? >'" << directory << "/status.tmp' && mv '" << directory << "/status.tmp' '" << directory
         << "/status'\n";
  script.close();
  if (!script) return absl::InternalError(absl::StrCat("writing ", directory, "/starter.sh failed"));
  // setsid -f: the starter outlives the session that launches it, and the shutdown's signals to it.
  return QueryValue(server_url_, absl::StrCat("COPY (SELECT 1) TO PROGRAM '/usr/bin/setsid -f /bin/sh ", directory,
                                              "/starter.sh </dev/null >/dev/null 2>&1'"))
      .status();
}

absl::Status PostgresCluster::Stop() {
  if (absl::Status armed = ArmStarter(); !armed.ok()) return armed;
  // Marked first: if pg_ctl fails half-way, the destructor still has the server started.
  stopped_ = true;
  std::vector<std::string> command = as_owner_;
  command.insert(command.end(), {pg_ctl_, "stop", "-D", data_directory_, "-m", "fast", "-w", "-t", "30"});
  return RunCommand(command, kPgCtlTimeout).status();
}

absl::Status PostgresCluster::Start() {
  if (!stopped_) return absl::FailedPreconditionError("the server was not stopped here");
  // The starter is told once; if it fails, its log says why, and there is nothing to retry.
  stopped_ = false;
  { std::ofstream go(absl::StrCat(starter_directory_, "/go")); }
  // The starter's outcome is a file: polled, backing off.
  const std::string status_path = absl::StrCat(starter_directory_, "/status");
  const absl::Time deadline = absl::Now() + kPgCtlTimeout;
  absl::Duration backoff = absl::Milliseconds(5);
  while (access(status_path.c_str(), F_OK) != 0) {
    if (absl::Now() > deadline) return absl::DeadlineExceededError("the starter did not start the server");
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(100));
  }
  std::ifstream status_file(status_path);
  std::string status;
  std::getline(status_file, status);
  std::ifstream log_file(absl::StrCat(starter_directory_, "/starter.log"));
  std::stringstream log;
  log << log_file.rdbuf();
  for (const char* name : {"starter.sh", "go", "status", "starter.log"}) {
    unlink(absl::StrCat(starter_directory_, "/", name).c_str());
  }
  rmdir(starter_directory_.c_str());
  if (status != "0") return absl::InternalError(absl::StrCat("pg_ctl start exited with ", status, ": ", log.str()));
  return absl::OkStatus();
}

}  // namespace artd::testing
