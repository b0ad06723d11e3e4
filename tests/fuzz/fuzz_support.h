// What the fuzz targets share: the fixed tenant and clock they run under, and the conversion between a
// member's device (identity keys, prekeys) and its fuzz-input form. The seed generator uses the same
// conversions, so the committed seeds and the targets cannot drift apart.
#ifndef TESTS_FUZZ_FUZZ_SUPPORT_H_
#define TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "art/identity/credential.h"
#include "art/identity/prekeys.h"
#include "art/protocol/member_group.h"
#include "tests/fuzz/fuzz_inputs.pb.h"

namespace artd::fuzz {

// The tenant every input speaks for (art::testing::TestTenant's default).
inline constexpr char kTenant[] = "tenant-a";

// A member device decoded from its fuzz-input form.
struct Device {
  art::MemberIdentity identity;
  art::PrekeySecrets prekeys;
  art::GroupConfig config;  // kTenant, the device's trusted keys, a fixed clock, no prekey expiry check.
};

// The device of |input|, or an error when a key has the wrong size.
absl::StatusOr<Device> DeviceFromInput(const MemberDevice& input);

// The fuzz-input form of a device, for the seed generator.
MemberDevice DeviceToInput(const art::MemberIdentity& identity, const art::PrekeySecrets& prekeys,
                           const std::vector<art::Ed25519PublicKey>& trusted_tenant_keys);

// The bytes of |secret| as a protobuf bytes value (inputs carry keys in clear: they are test keys).
std::string SecretToString(const art::SecretBytes& secret);

// The well-formed Ed25519 public keys among |keys| (others are dropped: a configuration never holds them).
std::vector<art::Ed25519PublicKey> TrustedKeys(const google::protobuf::RepeatedPtrField<std::string>& keys);

// Parses a target's input message; false for bytes that are not one (the input is then skipped).
bool ParseInput(const uint8_t* data, size_t size, google::protobuf::Message* message);

// Parses |input| (a message with a MemberDevice field named device) and decodes its device; nullopt
// when either fails (the input is then skipped).
template <typename Input>
std::optional<Device> ParseInputWithDevice(const uint8_t* data, size_t size, Input* input) {
  if (!ParseInput(data, size, input)) return std::nullopt;
  absl::StatusOr<Device> device = DeviceFromInput(input->device());
  if (!device.ok()) return std::nullopt;
  return *std::move(device);
}

// Aborts with |what| when an invariant a target checks does not hold: libFuzzer reports it as a crash.
void Check(bool condition, const char* what);

}  // namespace artd::fuzz

#endif  // TESTS_FUZZ_FUZZ_SUPPORT_H_
