// Test fixture for the client SDK: an artd server in this process (tests/service harness), one
// tenant, and members registered through MemberClient, each with its own encrypted file store.
#ifndef CLIENT_TESTING_CLIENT_FIXTURE_H_
#define CLIENT_TESTING_CLIENT_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/member_client.h"
#include "tests/service/service_harness.h"

namespace artd::client::testing {

using art::testing::ValueOrDie;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Options for this tenant's members; retries start fast so that races settle quickly.
  ClientOptions Options() const;
  Certifier Certify() const;
  // The application's state key (the same for every member: the tests do not need distinct ones).
  static art::SecretBytes StateKey();
  // The state directory of |member_id|, the same for every call in a test.
  std::string StateDir(const std::string& member_id);

  std::unique_ptr<MemberClient> Register(const std::string& member_id) { return Register(member_id, Options()); }
  std::unique_ptr<MemberClient> Register(const std::string& member_id, ClientOptions options);
  // A new MemberClient on the member's file store (as after a restart).
  std::unique_ptr<MemberClient> Reopen(const std::string& member_id);

  // Catches every member up and expects one epoch and authenticator among them; returns the epoch.
  uint64_t ExpectAgree(const std::string& group_id, const std::vector<MemberClient*>& members);

  std::unique_ptr<artd::testing::ServiceHarness> harness_;
  std::unique_ptr<artd::testing::TenantClient> tenant_;
  std::map<std::string, std::string> state_dirs_;
};

std::string Text(const art::SecretBytes& bytes);

}  // namespace artd::client::testing

#endif  // CLIENT_TESTING_CLIENT_FIXTURE_H_
