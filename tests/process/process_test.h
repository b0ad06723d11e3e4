// The common ground of the process tests: a database provisioned through `artd admin` for one
// tenant, servers started on it, clients connected to them, and assertions on absl::Status.
#ifndef TESTS_PROCESS_PROCESS_TEST_H_
#define TESTS_PROCESS_PROCESS_TEST_H_

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "tests/process/artd_process.h"
#include "tests/process/group_client.h"

#define ART_PROCESS_CONCAT_INNER(a, b) a##b
#define ART_PROCESS_CONCAT(a, b) ART_PROCESS_CONCAT_INNER(a, b)

// Fails the test (and returns) unless |expression| (an absl::Status) is OK.
#define ART_ASSERT_OK(expression)                                          \
  do {                                                                     \
    const ::absl::Status art_assert_status = (expression);                 \
    ASSERT_TRUE(art_assert_status.ok()) << #expression ": " << art_assert_status; \
  } while (false)

// Evaluates |expression| (an absl::StatusOr); fails the test unless it is OK, else moves its value
// into |declaration|.
#define ART_ASSERT_OK_AND_ASSIGN(declaration, expression) \
  ART_ASSERT_OK_AND_ASSIGN_IMPL(ART_PROCESS_CONCAT(art_statusor_, __LINE__), declaration, expression)
#define ART_ASSERT_OK_AND_ASSIGN_IMPL(statusor, declaration, expression)       \
  auto statusor = (expression);                                                \
  ASSERT_TRUE(statusor.ok()) << #expression ": " << statusor.status();         \
  declaration = std::move(statusor).value()

namespace artd::testing {

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { Provision(TempPath("artd.db")); }

  // Makes |database| (an SQLite path or a postgres:// URL) this test's, with the tenant in it.
  void Provision(std::string database) {
    database_ = std::move(database);
    absl::StatusOr<ProvisionedTenant> tenant = ProvisionTenant(database_, "tenant-a");
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_.emplace(*std::move(tenant));
  }

  // Starts `artd serve` on this test's database.
  absl::StatusOr<std::unique_ptr<ArtdProcess>> StartServer(std::vector<std::string> extra_args = {},
                                                           std::string stderr_log_path = "") {
    ArtdProcess::Options options;
    options.database = database_;
    options.extra_args = std::move(extra_args);
    options.stderr_log_path = std::move(stderr_log_path);
    return StartServerWith(std::move(options));
  }

  // Starts `artd serve` on this test's database with |options| (whose database this sets).
  // Its pid and port are printed, for reading a failure's log (not the database: a URL may hold a
  // password).
  absl::StatusOr<std::unique_ptr<ArtdProcess>> StartServerWith(ArtdProcess::Options options) {
    options.database = database_;
    absl::StatusOr<std::unique_ptr<ArtdProcess>> server = ArtdProcess::Start(std::move(options));
    if (server.ok()) {
      std::cout << "artd (pid " << (*server)->pid() << ") serving on port " << (*server)->port() << std::endl;
    }
    return server;
  }

  // The tenant's client of |server|.
  std::unique_ptr<TenantClient> Connect(const ArtdProcess& server) { return ConnectTenant(*tenant_, server.channel()); }

  std::string database_;
  std::optional<ProvisionedTenant> tenant_;
};

}  // namespace artd::testing

#endif  // TESTS_PROCESS_PROCESS_TEST_H_
