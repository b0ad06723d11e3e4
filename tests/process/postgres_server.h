// The PostgreSQL server the replica tests run artd on: ARTD_TEST_POSTGRES_URL names it (a user allowed
// to create databases, e.g. postgresql://postgres@127.0.0.1:55432/postgres; scripts/test.sh starts a
// scratch cluster and sets it). Each test works in a database of its own, created and dropped here,
// and a test that takes the database away controls the server with pg_ctl, as its operator would.
#ifndef TESTS_PROCESS_POSTGRES_SERVER_H_
#define TESTS_PROCESS_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace artd::testing {

inline constexpr char kPostgresServerVariable[] = "ARTD_TEST_POSTGRES_URL";

// The value of ARTD_TEST_POSTGRES_URL; empty when it is not set.
std::string PostgresServerUrl();

// Runs |sql| on the database |url| names and returns the first column of the first row (empty when
// the result has no rows).
absl::StatusOr<std::string> QueryValue(const std::string& url, const std::string& sql);

// A new, empty database on a server, dropped (with any connections left to it) when this goes.
class ScratchDatabase {
 public:
  // Creates it through |server_url|, a URL of a database on the server.
  static absl::StatusOr<std::unique_ptr<ScratchDatabase>> Create(const std::string& server_url);
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  ~ScratchDatabase();

  const std::string& name() const { return name_; }
  // A postgres:// URL of this database, for `artd --database`.
  const std::string& url() const { return url_; }

 private:
  ScratchDatabase(std::string server_url, std::string name);

  std::string server_url_;
  std::string name_;
  std::string url_;
};

// The server's cluster on this machine, stopped with its own pg_ctl (as the cluster's owner, through
// runuser when this runs as root) and started again, with the options it was running with, by a
// starter the server itself launches before it stops (COPY TO PROGRAM, in a session of its own). A
// server the test started would be a descendant of the test, and Bazel ends every descendant of a
// test when it ends: the shared server would die with the first test that restarted it.
//
// The starter starts the server when told to, or on its own after a minute, so even a test that dies
// while the server is down leaves it running for the others; destroying this starts it at once.
class PostgresCluster {
 public:
  // Finds the cluster behind |server_url| from the running server (its data directory, and the
  // command line it was started with, in postmaster.opts there). FAILED_PRECONDITION when it cannot
  // be controlled from here (another machine, or its files are out of reach).
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Find(const std::string& server_url);
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;
  ~PostgresCluster();

  const std::string& data_directory() const { return data_directory_; }

  // Arms the starter, then `pg_ctl stop -m fast`: sessions are ended, the server checkpoints and exits.
  absl::Status Stop();
  // Tells the starter to start the server; returns once it accepts connections.
  absl::Status Start();

 private:
  PostgresCluster() = default;
  absl::Status ArmStarter();

  std::string server_url_;
  std::string data_directory_;
  std::string pg_ctl_;
  std::string server_options_;  // The postgres arguments besides -D, as pg_ctl -o takes them.
  uid_t owner_ = 0;             // The cluster's owner.
  std::vector<std::string> as_owner_;  // The prefix that runs a command as the owner.
  std::string starter_directory_;      // The starter's script, its go-ahead and its outcome.
  bool stopped_ = false;
};

}  // namespace artd::testing

#endif  // TESTS_PROCESS_POSTGRES_SERVER_H_
