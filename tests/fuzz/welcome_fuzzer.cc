// A Welcome with its Add commit and the public state after it, as a newcomer fetches them:
// MemberGroup::JoinFromWelcome. A joined group must agree with the public state it joined.
#include <cstddef>
#include <cstdint>

#include "art/protocol/member_group.h"
#include "art/wire/fields.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace artd::fuzz;
  WelcomeInput input;
  std::optional<Device> device = ParseInputWithDevice(data, size, &input);
  if (!device.has_value()) return 0;
  const size_t one_time_before = device->prekeys.one_time_prekeys.size();
  absl::StatusOr<art::MemberGroup> joined =
      art::MemberGroup::JoinFromWelcome(device->config, device->identity, &device->prekeys, input.welcome(),
                                        input.add_commit(), input.state_after());
  if (!joined.ok()) {
    Check(device->prekeys.one_time_prekeys.size() == one_time_before,
          "a failed join spent a one-time prekey");
    return 0;
  }
  Check(joined->epoch() == input.state_after().epoch(), "joined at another epoch than the state's");
  Check(art::ToField(joined->tree_hash()) == input.state_after().tree_hash(),
        "joined a tree other than the state's");
  Check(joined->Serialize().ok(), "a joined group does not serialize");
  return 0;
}
