// A Setup from the network: the service's checks (PublicGroup::FromSetup) and a named member's join
// (MemberGroup::JoinFromSetup). Both must agree on the group a valid Setup creates.
#include <cstddef>
#include <cstdint>

#include "art/protocol/member_group.h"
#include "art/protocol/public_group.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace artd::fuzz;
  SetupInput input;
  std::optional<Device> device = ParseInputWithDevice(data, size, &input);
  if (!device.has_value()) return 0;

  absl::StatusOr<art::PublicGroup> service_view =
      art::PublicGroup::FromSetup(kTenant, input.setup(), device->config.trusted_tenant_keys);
  absl::StatusOr<art::MemberGroup> joined =
      art::MemberGroup::JoinFromSetup(device->config, device->identity, &device->prekeys, input.setup());
  if (joined.ok()) {
    // A member accepts nothing the service would refuse.
    Check(service_view.ok(), "a member joined from a Setup the service refuses");
    Check(joined->epoch() == 0 && joined->tree_hash() == service_view->tree_hash(),
          "member and service disagree on the Setup's group");
    Check(joined->Serialize().ok(), "a joined group does not serialize");
  }
  return 0;
}
