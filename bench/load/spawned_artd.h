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

class SpawnedArtd {
 public:
  // Creates a temporary database, creates |tenant| with an API key and trusts |credential_key_hex|
  // for its members' credentials, then starts serving on 127.0.0.1 and waits for the port.
  static absl::StatusOr<std::unique_ptr<SpawnedArtd>> Start(const std::string& artd_binary,
                                                            const std::string& tenant,
                                                            const std::string& credential_key_hex);
  // Stops the server (SIGTERM, as an operator would) and removes the temporary database.
  ~SpawnedArtd();

  SpawnedArtd(const SpawnedArtd&) = delete;
  SpawnedArtd& operator=(const SpawnedArtd&) = delete;

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& api_key() const { return api_key_; }
  pid_t pid() const { return pid_; }

 private:
  SpawnedArtd() = default;

  std::string directory_;
  std::string api_key_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::thread stderr_forwarder_;
};

}  // namespace artd::load

#endif  // BENCH_LOAD_SPAWNED_ARTD_H_
