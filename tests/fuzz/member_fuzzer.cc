// A member's stored group state (MemberGroup::Deserialize), then the commits and application messages
// it receives (ProcessCommit, Unprotect). A rejected input must leave the group exactly as it was,
// and the state must survive a serialization round trip at every step.
#include <cstddef>
#include <cstdint>

#include "art/protocol/member_group.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace artd::fuzz;

// Serialize then Deserialize gives a group that serializes to the same bytes.
void CheckRoundTrip(const Device& device, const art::MemberGroup& group) {
  absl::StatusOr<art::SecretBytes> stored = group.Serialize();
  Check(stored.ok(), "an active group does not serialize");
  absl::StatusOr<art::MemberGroup> restored =
      art::MemberGroup::Deserialize(device.config, device.identity, stored->span());
  Check(restored.ok(), "a serialized group does not deserialize");
  absl::StatusOr<art::SecretBytes> again = restored->Serialize();
  Check(again.ok() && again->span() == stored->span(), "a serialization round trip changed the state");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemberInput input;
  std::optional<Device> device = ParseInputWithDevice(data, size, &input);
  if (!device.has_value()) return 0;
  absl::StatusOr<art::MemberGroup> group =
      art::MemberGroup::Deserialize(device->config, device->identity, art::AsBytes(input.serialized_group()));
  if (!group.ok()) return 0;
  CheckRoundTrip(*device, *group);

  for (const MemberEvent& event : input.events()) {
    if (!group->is_active()) break;
    absl::StatusOr<art::SecretBytes> before = group->Serialize();
    Check(before.ok(), "an active group does not serialize");
    absl::Status result;
    if (event.has_commit()) {
      result = group->ProcessCommit(event.commit());
    } else if (event.has_message()) {
      result = group->Unprotect(event.message()).status();
    } else {
      continue;
    }
    if (!result.ok()) {
      absl::StatusOr<art::SecretBytes> after = group->Serialize();
      Check(after.ok() && after->span() == before->span(), "a rejected input changed the group");
    } else if (group->is_active()) {
      CheckRoundTrip(*device, *group);
    }
  }
  return 0;
}
