// A fetched public group state (PublicGroup::FromProto) and commits against it, staged and applied in
// turn as the service's checks do (StageCommitOn a whole PublicTree).
#include <cstddef>
#include <cstdint>

#include "art/protocol/public_group.h"
#include "art/wire/fields.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace artd::fuzz;
  PublicCommitInput input;
  if (!ParseInput(data, size, &input)) return 0;
  const std::vector<art::Ed25519PublicKey> trusted = TrustedKeys(input.trusted_tenant_keys());
  absl::StatusOr<art::PublicGroup> group = art::PublicGroup::FromProto(input.state(), kTenant, trusted);
  if (!group.ok()) return 0;
  for (const art::v1::Commit& commit : input.commits()) {
    const uint64_t epoch = group->epoch();
    absl::StatusOr<art::StagedPublicCommit> staged = group->StageCommit(commit, trusted);
    if (!staged.ok()) continue;
    group->Apply(*std::move(staged));
    Check(group->epoch() == epoch + 1, "an applied commit did not advance the epoch");
    Check(art::ToField(group->tree_hash()) == commit.new_tree_hash(),
          "an applied commit's tree hash is not the one it announced");
  }
  return 0;
}
