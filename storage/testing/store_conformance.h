// The conformance suite every Store backend must pass: the contract of storage/store.h, tenant
// isolation, and the atomicity that matters under concurrency (one winner per epoch, each one-time
// prekey handed out once).
//
// A backend runs it by instantiating the value-parameterized suite with a factory that returns a
// fresh, empty store per test:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
//                            ::testing::Values(artd::store_testing::StoreFactory(&MakeStore)));
//
// The factory is called once per test (in SetUp); concurrency tests share that one store across
// threads, as the service's handlers do.
//
// The helpers below build small, self-consistent records; backend-specific tests use them too.
#ifndef STORAGE_TESTING_STORE_CONFORMANCE_H_
#define STORAGE_TESTING_STORE_CONFORMANCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "storage/store.h"

namespace artd {
namespace store_testing {

using StoreFactory = std::function<std::unique_ptr<Store>()>;

inline constexpr uint32_t kNoLeafValue = 0xffffffffu;

// The bytes of |text|.
Bytes B(const std::string& text);

// The header of a test group at |epoch| (hashes derived from |tag|, so versions are distinguishable).
GroupHeaderRecord TestHeader(uint64_t epoch, uint32_t leaf_count, const std::string& tag);
NodeRecord TestNode(NodeIndex node, const std::string& tag);
// Leaf |leaf| held by |member_id|, or blank when |member_id| is empty.
LeafRecord TestLeaf(LeafIndex leaf, const std::string& member_id, const std::string& tag);

// Creates group |group_id| at epoch 0 with |leaf_count| leaves held by "member-0", "member-1", ...,
// every node of the tree, and the Setup "setup:<group_id>".
absl::Status CreateTestGroup(Store& store, const std::string& tenant_id, const std::string& group_id,
                             uint32_t leaf_count);

// A commit moving a group of |leaf_count| leaves from |expected_epoch| to the next: new versions of
// leaf 0 and its direct path, tagged and with commit body "commit:<tag>".
CommitWrite TestCommit(uint64_t expected_epoch, uint32_t leaf_count, const std::string& tag);

// One-time prekeys with ids first..first+count-1 and bodies "opk-<id>".
std::vector<std::pair<uint32_t, std::string>> TestOneTimePrekeys(uint32_t first, uint32_t count);

// Publishes |member_id|'s identity "credential:<member_id>", a signed prekey and |one_time_count|
// one-time prekeys (ids 1..one_time_count).
absl::Status PublishTestMember(Store& store, const std::string& tenant_id, const std::string& member_id,
                               uint32_t one_time_count);

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  static constexpr const char* kTenantA = "tenant-a";
  static constexpr const char* kTenantB = "tenant-b";

  // Makes the store and creates tenants A and B.
  void SetUp() override;

  std::unique_ptr<Store> store_;
};

}  // namespace store_testing
}  // namespace artd

#endif  // STORAGE_TESTING_STORE_CONFORMANCE_H_
