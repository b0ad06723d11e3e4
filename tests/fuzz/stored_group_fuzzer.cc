// Group rows as a damaged or hostile database could hold them, written straight into the store: the
// service must refuse or serve them without undefined behaviour when it loads them, for a commit (the
// partial tree of SubmitCommit), for GetGroup's full state and for a member's path. Whatever full state
// it serves is then loaded as a member would (PublicGroup::FromProto).
#include <cstddef>
#include <cstdint>

#include "art/protocol/public_group.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/service_fuzzing.h"

namespace {

using namespace artd::fuzz;

// Larger groups only make inputs slower: the code paths are the same.
constexpr uint32_t kMaxLeaves = 64;

artd::Bytes ToBytes(const std::string& value) { return artd::Bytes(value.begin(), value.end()); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StoredGroupInput input;
  // leaf_count 0 is fuzzed too: ServiceCore::LoadState once indexed an empty tree for it
  // (regressions/stored_group_fuzzer/empty_group_with_node_rows); it now refuses the header.
  if (!ParseInput(data, size, &input) || input.leaf_count() > kMaxLeaves ||
      static_cast<uint32_t>(input.leaves_size()) > kMaxLeaves ||
      input.nodes_size() > 2 * static_cast<int>(kMaxLeaves)) {
    return 0;
  }
  absl::StatusOr<FuzzedService> service = StartFuzzedService(input.tenant_credential_keys(), 1);
  Check(service.ok(), "cannot start the service");

  artd::GroupHeaderRecord header;
  header.epoch = 0;
  header.leaf_count = input.leaf_count();
  header.tree_hash = ToBytes(input.tree_hash());
  header.interim_transcript_hash = ToBytes(input.interim_transcript_hash());
  header.leftmost_blank_leaf = input.leftmost_blank_leaf();
  std::vector<artd::LeafRecord> leaves;
  for (const StoredLeaf& leaf : input.leaves()) {
    leaves.push_back(artd::LeafRecord{leaf.leaf(), leaf.member_id(), leaf.credential(),
                                      ToBytes(leaf.credential_hash()), ToBytes(leaf.signing_key()),
                                      leaf.keyed_by()});
  }
  std::vector<artd::NodeRecord> nodes;
  for (const StoredNode& node : input.nodes()) {
    nodes.push_back(artd::NodeRecord{node.node(), ToBytes(node.public_key()), ToBytes(node.hash())});
  }
  const std::string group_id = input.group_id();
  if (!service->store->CreateGroup(kTenant, group_id, header, leaves, nodes, "").ok()) return 0;

  artd::ServiceCore& core = *service->core;
  artd::v1::GetGroupRequest get;
  get.set_group_id(group_id);
  absl::StatusOr<artd::v1::GetGroupResponse> served = core.GetGroup(kTenant, get);
  if (served.ok()) {
    // The tree hash check is what protects members from rows that do not match their header.
    (void)art::PublicGroup::FromProto(served->state(), kTenant, TrustedKeys(input.tenant_credential_keys()));
  }
  if (input.has_member_leaf()) {
    get.set_member_leaf(input.member_leaf());
    (void)core.GetGroup(kTenant, get);
  }
  if (input.has_submit()) {
    artd::v1::SubmitCommitRequest submit = input.submit();
    submit.mutable_commit()->set_group_id(group_id);
    if (core.SubmitCommit(kTenant, submit).ok()) (void)core.GetGroup(kTenant, get);
  }
  return 0;
}
