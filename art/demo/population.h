// In-memory members for the demo and the benchmarks: one tenant, n certified devices with prekeys,
// and the bundles the service would hand a group's creator. Test-only (built on art/testing).
#ifndef ART_DEMO_POPULATION_H_
#define ART_DEMO_POPULATION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "art/protocol/member_group.h"
#include "art/testing/group_fixture.h"

namespace art::demo {

struct Population {
  std::unique_ptr<testing::TestTenant> tenant;
  // "member-0".."member-(n-1)"; devices[i] sits at leaf i of a group made with MakeGroup.
  std::vector<std::unique_ptr<testing::TestMember>> devices;
  // One bundle (with a one-time prekey) of each of devices[1..n-1], in leaf order.
  std::vector<v1::PrekeyBundle> bundles;

  const GroupConfig& config() const { return tenant->config(); }
};

// A tenant and |member_count| devices, each with one one-time prekey, already handed out in |bundles|.
Population MakePopulation(int member_count);

// devices[0] creates a group of the whole population.
absl::StatusOr<MemberGroup::Created> MakeGroup(const Population& population,
                                              const std::string& group_id = "group-1");

// Each of |leaves| joins from |setup| on its own device; the joins run in parallel on all cores
// (each touches only its own device). Returns the groups in the order of |leaves|.
absl::StatusOr<std::vector<MemberGroup>> JoinAll(Population& population,
                                                 absl::Span<const LeafIndex> leaves,
                                                 const v1::Setup& setup);

}  // namespace art::demo

#endif  // ART_DEMO_POPULATION_H_
