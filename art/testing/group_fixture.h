// Test helpers: a tenant that certifies members, members with prekeys, and an in-memory stand-in for
// the service's credential store (to build the public group state a newcomer fetches).
#ifndef ART_TESTING_GROUP_FIXTURE_H_
#define ART_TESTING_GROUP_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "art/identity/credential.h"
#include "art/identity/prekeys.h"
#include "art/protocol/member_group.h"

namespace art::testing {

// A member's device: identity, prekey secrets, and the bundles it would publish.
struct TestMember {
  MemberIdentity identity;
  PrekeySecrets prekeys;
  v1::SignedPrekey signed_prekey;
  std::vector<v1::OneTimePrekey> one_time_prekeys;  // Not yet handed out.

  const std::string& member_id() const { return identity.credential.member_id(); }
  // A bundle as the service would hand it out: consumes one one-time prekey if any are left.
  v1::PrekeyBundle TakeBundle();
};

class TestTenant {
 public:
  explicit TestTenant(std::string tenant_id = "tenant-a");

  const GroupConfig& config() const { return config_; }
  GroupConfig& mutable_config() { return config_; }
  const Ed25519PrivateKey& credential_key() const { return *credential_key_; }

  // A certified member with a signed prekey and |one_time_prekeys| one-time prekeys.
  std::unique_ptr<TestMember> NewMember(const std::string& member_id, int one_time_prekeys = 1);

  // The credential of every member created so far, by member id.
  const v1::Credential* CredentialOf(const std::string& member_id) const;

  // What the service would hand a newcomer: |group|'s public state with full credentials.
  v1::PublicGroupState PublicStateOf(const PublicGroup& group) const;

 private:
  GroupConfig config_;
  std::optional<Ed25519PrivateKey> credential_key_;
  std::map<std::string, v1::Credential> credentials_;
};

// A whole group in memory: every member's device and group state, and the service's public view,
// which accepts each commit exactly as the service does before members process it.
class SimulatedGroup {
 public:
  struct Seat {
    std::unique_ptr<TestMember> device;
    MemberGroup group;
  };

  // Creates members "member-0".."member-(n-1)"; member 0 creates the group and all others join.
  static absl::StatusOr<std::unique_ptr<SimulatedGroup>> Create(TestTenant& tenant, int member_count,
                                                                const std::string& group_id = "group-1");

  // Runs |pending| (made by the member at |committer|) through the service's checks, then applies it
  // at the committer, has every other member process it, and lets a newcomer join from its Welcome.
  absl::Status Deliver(LeafIndex committer, PendingCommit pending,
                       std::unique_ptr<TestMember> newcomer = nullptr);

  absl::Status Update(LeafIndex leaf);
  absl::Status Add(LeafIndex adder, const std::string& member_id);
  absl::Status Remove(LeafIndex remover, LeafIndex removed);

  // True when every member is at the service's epoch with the same authenticator and tree hash.
  bool AllAgree() const;

  std::map<LeafIndex, Seat>& seats() { return seats_; }
  MemberGroup& group(LeafIndex leaf) { return seats_.at(leaf).group; }
  const PublicGroup& service_view() const { return service_view_; }
  TestTenant& tenant() { return *tenant_; }

 private:
  TestTenant* tenant_ = nullptr;
  PublicGroup service_view_;
  std::map<LeafIndex, Seat> seats_;
};

// Aborts the test binary on error: for fixtures where failure is not what is tested.
template <typename T>
T ValueOrDie(absl::StatusOr<T> value) {
  if (!value.ok()) {
    fprintf(stderr, "unexpected error: %s\n", value.status().ToString().c_str());
    abort();
  }
  return *std::move(value);
}

}  // namespace art::testing

#endif  // ART_TESTING_GROUP_FIXTURE_H_
