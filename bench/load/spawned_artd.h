// Runs the real `artd` binary for the load tool: the admin commands that set up a tenant on a fresh
// database, then `artd serve` on a loopback port chosen by the kernel, stopped with SIGTERM at the end.
// A separate process (rather than an in-process server) so that the load tool measures artd as it is
// deployed and can account the server's CPU apart from its own.
#ifndef BENCH_LOAD_SPAWNED_ARTD_H_
#define BENCH_LOAD_SPAWNED_ARTD_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace artd::load {

// Runs |argv| to completion and returns what it printed on stdout; an error if it did not exit 0.
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv);

// Runs `artd admin --database |database| <command...>` and returns its stdout.
absl::StatusOr<std::string> RunAdmin(const std::string& artd_binary, const std::string& database,
                                     std::vector<std::string> command);

// Seconds of CPU (user + system) that process |pid| has used so far, from /proc.
absl::StatusOr<double> ProcessCpuSeconds(pid_t pid);

// Where spawned servers keep their data: a temporary SQLite file, or a database of its own created
// for the run on a PostgreSQL server (so that runs never see each other's tenants), dropped at the end.
class LoadDatabase {
 public:
  // |server_url| empty: SQLite; else a postgres:// or postgresql:// URL of a server we may create
  // databases on.
  static absl::StatusOr<std::unique_ptr<LoadDatabase>> Create(const std::string& server_url);
  ~LoadDatabase();

  LoadDatabase(const LoadDatabase&) = delete;
  LoadDatabase& operator=(const LoadDatabase&) = delete;

  // What `artd serve/admin --database` take.
  const std::string& setting() const { return setting_; }

 private:
  LoadDatabase() = default;

  std::string setting_;
  std::string directory_;       // SQLite: the temporary directory holding the file.
  std::string server_url_;      // PostgreSQL: where the database was created...
  std::string postgres_name_;   // ...and its name.
};

// One or more `artd serve` replicas on one database.
class SpawnedArtd {
 public:
  // Creates the database (see LoadDatabase), creates |tenant| with an API key and trusts
  // |credential_key_hex| for its members' credentials (once: the replicas share the database), then
  // starts |replicas| servers on 127.0.0.1 and waits for their ports. Several replicas need a
  // |database_url|: SQLite is one process's file.
  static absl::StatusOr<std::unique_ptr<SpawnedArtd>> Start(const std::string& artd_binary,
                                                            const std::string& tenant,
                                                            const std::string& credential_key_hex,
                                                            const std::string& database_url = "",
                                                            int replicas = 1);
  // Stops the servers (SIGTERM, as an operator would) and removes the database.
  ~SpawnedArtd();

  SpawnedArtd(const SpawnedArtd&) = delete;
  SpawnedArtd& operator=(const SpawnedArtd&) = delete;

  // One "127.0.0.1:PORT" per replica.
  std::vector<std::string> targets() const;
  const std::string& api_key() const { return api_key_; }
  std::vector<pid_t> pids() const;

 private:
  struct Replica {
    pid_t pid = -1;
    int port = 0;
    std::thread stderr_forwarder;
  };

  SpawnedArtd() = default;
  // Starts one `artd serve` and waits until it announces its port.
  absl::Status StartReplica(const std::string& artd_binary);

  std::unique_ptr<LoadDatabase> database_;
  std::string api_key_;
  std::vector<Replica> replicas_;
};

}  // namespace artd::load

#endif  // BENCH_LOAD_SPAWNED_ARTD_H_
