#include "art/demo/population.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "art/base/parallel.h"

namespace art::demo {

Population MakePopulation(int member_count) {
  Population population;
  population.tenant = std::make_unique<testing::TestTenant>();
  population.devices.reserve(member_count);
  population.bundles.reserve(member_count > 0 ? member_count - 1 : 0);
  for (int i = 0; i < member_count; ++i) {
    population.devices.push_back(population.tenant->NewMember(absl::StrCat("member-", i)));
    if (i > 0) population.bundles.push_back(population.devices.back()->TakeBundle());
  }
  return population;
}

absl::StatusOr<MemberGroup::Created> MakeGroup(const Population& population,
                                              const std::string& group_id) {
  return MemberGroup::Create(population.config(), population.devices[0]->identity, group_id,
                             population.bundles);
}

absl::StatusOr<std::vector<MemberGroup>> JoinAll(Population& population,
                                                 absl::Span<const LeafIndex> leaves,
                                                 const v1::Setup& setup) {
  std::vector<std::optional<MemberGroup>> joined(leaves.size());
  absl::Status status = ParallelFor(leaves.size(), 0, [&](size_t begin, size_t end) -> absl::Status {
    for (size_t i = begin; i < end; ++i) {
      testing::TestMember& device = *population.devices.at(leaves[i]);
      absl::StatusOr<MemberGroup> group =
          MemberGroup::JoinFromSetup(population.config(), device.identity, &device.prekeys, setup);
      if (!group.ok()) return group.status();
      joined[i] = *std::move(group);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  std::vector<MemberGroup> groups;
  groups.reserve(joined.size());
  for (auto& group : joined) groups.push_back(*std::move(group));
  return groups;
}

}  // namespace art::demo
