#include "tests/fuzz/fuzz_support.h"

#include <cstdio>
#include <cstdlib>

#include "absl/time/time.h"
#include "art/base/status_macros.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/x25519.h"
#include "art/wire/fields.h"
#include "google/protobuf/stubs/logging.h"

namespace artd::fuzz {
namespace {

// A fixed instant, so nothing a target does depends on when it runs.
constexpr int64_t kClockUnixSeconds = 1'800'000'000;

absl::StatusOr<std::map<uint32_t, art::X25519PrivateKey>> PrekeysFromInput(
    const google::protobuf::Map<uint32_t, std::string>& secrets) {
  std::map<uint32_t, art::X25519PrivateKey> keys;
  for (const auto& [id, secret] : secrets) {
    ART_ASSIGN_OR_RETURN(art::X25519PrivateKey key, art::X25519PrivateKey::FromSecret(art::AsBytes(secret)));
    keys.emplace(id, std::move(key));
  }
  return keys;
}

}  // namespace

absl::StatusOr<Device> DeviceFromInput(const MemberDevice& input) {
  ART_ASSIGN_OR_RETURN(art::Ed25519PrivateKey signing_key,
                       art::Ed25519PrivateKey::FromSeed(art::AsBytes(input.signing_seed())));
  ART_ASSIGN_OR_RETURN(art::X25519PrivateKey dh_key,
                       art::X25519PrivateKey::FromSecret(art::AsBytes(input.dh_secret())));
  Device device{art::MemberIdentity{std::move(signing_key), std::move(dh_key), input.credential()}, {}, {}};
  ART_ASSIGN_OR_RETURN(device.prekeys.signed_prekeys, PrekeysFromInput(input.signed_prekeys()));
  ART_ASSIGN_OR_RETURN(device.prekeys.one_time_prekeys, PrekeysFromInput(input.one_time_prekeys()));
  device.config.tenant_id = kTenant;
  device.config.trusted_tenant_keys = TrustedKeys(input.trusted_tenant_keys());
  device.config.setup_threads = 1;
  device.config.clock = [] { return absl::FromUnixSeconds(kClockUnixSeconds); };
  device.config.unix_seconds = [] { return uint64_t{0}; };
  return device;
}

std::string SecretToString(const art::SecretBytes& secret) {
  return std::string(reinterpret_cast<const char*>(secret.data()), secret.size());
}

MemberDevice DeviceToInput(const art::MemberIdentity& identity, const art::PrekeySecrets& prekeys,
                           const std::vector<art::Ed25519PublicKey>& trusted_tenant_keys) {
  MemberDevice input;
  input.set_signing_seed(SecretToString(identity.signing_key.seed()));
  input.set_dh_secret(SecretToString(identity.dh_key.secret()));
  *input.mutable_credential() = identity.credential;
  for (const auto& [id, key] : prekeys.signed_prekeys)
    (*input.mutable_signed_prekeys())[id] = SecretToString(key.secret());
  for (const auto& [id, key] : prekeys.one_time_prekeys) {
    (*input.mutable_one_time_prekeys())[id] = SecretToString(key.secret());
  }
  for (const art::Ed25519PublicKey& key : trusted_tenant_keys)
    input.add_trusted_tenant_keys(art::ToField(key));
  return input;
}

std::vector<art::Ed25519PublicKey> TrustedKeys(const google::protobuf::RepeatedPtrField<std::string>& keys) {
  std::vector<art::Ed25519PublicKey> trusted;
  for (const std::string& key : keys) {
    absl::StatusOr<art::Ed25519PublicKey> parsed = art::ParseEd25519PublicKey(key, "tenant key");
    if (parsed.ok()) trusted.push_back(*parsed);
  }
  return trusted;
}

bool ParseInput(const uint8_t* data, size_t size, google::protobuf::Message* message) {
  // Mutated inputs make protobuf log every invalid UTF-8 string it refuses, which would flood the
  // output and slow fuzzing down; only fatal messages (then a crash) are worth printing.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
          if (level == google::protobuf::LOGLEVEL_FATAL)
            fprintf(stderr, "[libprotobuf FATAL %s:%d] %s\n", file, line, message.c_str());
        });
    return true;
  }();
  (void)quiet;
  return message->ParseFromArray(data, static_cast<int>(size));
}

void Check(bool condition, const char* what) {
  if (condition) return;
  fprintf(stderr, "fuzz invariant violated: %s\n", what);
  abort();
}

}  // namespace artd::fuzz
