// The common ground of the artd_cli tests: a real `artd serve` on a database provisioned through
// `artd admin`, and members, each an artd_cli state directory, driven through separate artd_cli
// processes.
#ifndef TESTS_CLI_CLI_TEST_FIXTURE_H_
#define TESTS_CLI_CLI_TEST_FIXTURE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/cli/member_dir.h"
#include "tests/cli/cli_process.h"
#include "tests/process/artd_process.h"

namespace artd::testing {

// What `artd_cli show` printed.
struct Shown {
  uint64_t epoch = 0;
  std::string authenticator;
  std::string members;  // Space-separated, in leaf order.
};

class CliTest : public ::testing::Test {
 protected:
  // Each CLI invocation's bound: generous for a loaded machine, still far below the test timeouts.
  static constexpr absl::Duration kCommandTimeout = absl::Seconds(60);

  void SetUp() override;

  // The CLI's environment: the service and the tenant, as a deployment would set them.
  std::vector<std::string> Env() const;
  std::string StateDir(const std::string& member);

  // Starts `artd_cli --state-dir <member's> |args|...` with Env() plus |extra_env|.
  std::unique_ptr<CliProcess> Start(const std::string& member, const std::vector<std::string>& args,
                                    const std::vector<std::string>& extra_env = {});
  // Runs it to its end, whatever its exit code.
  CliResult Run(const std::string& member, const std::vector<std::string>& args);
  // Runs it and expects exit code 0; returns its stdout.
  std::string Ok(const std::string& member, const std::vector<std::string>& args);

  void RegisterAll(const std::vector<std::string>& members);
  Shown Show(const std::string& member, const std::string& group);
  // The lines `receive` printed ("<sender>: <text>").
  std::vector<std::string> Receive(const std::string& member, const std::string& group);
  // Expects every member's `show` to print one epoch, authenticator and member list; returns them.
  Shown ExpectAgree(const std::string& group, const std::vector<std::string>& members);

  // The service settings the CLI gets from Env(), for members prepared in this process.
  client::cli::ServiceSettings Settings() const;
  client::Certifier Certify() const;

  std::string database_;
  std::optional<ProvisionedTenant> tenant_;
  std::unique_ptr<ArtdProcess> server_;
  std::map<std::string, std::string> state_dirs_;
};

std::vector<std::string> Lines(const std::string& text);

}  // namespace artd::testing

#endif  // TESTS_CLI_CLI_TEST_FIXTURE_H_
