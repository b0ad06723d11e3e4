// One member's state directory for artd_cli, and the client options built from the CLI's settings.
// Kept apart from the command-line parsing so that tests (and tools) can lay out a member's
// directory exactly as `artd_cli register` would, e.g. to register a thousand members in-process.
//
// Layout of a directory:
//   member     the member id (not secret: it names the member to the service anyway)
//   state.key  the state-store key as 64 hex digits, mode 0600; only when ARTD_STATE_KEY was not set
//              at registration
//   store/     the SDK's encrypted file store (client/state_store.h)
#ifndef CLIENT_CLI_MEMBER_DIR_H_
#define CLIENT_CLI_MEMBER_DIR_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "client/member_client.h"

namespace artd::client::cli {

// How to reach the service as a tenant, and which tenant credential keys to trust.
struct ServiceSettings {
  std::string target;
  std::string api_key;
  std::string tenant_id;
  std::vector<std::string> tenant_keys_hex;
};

// Options for |channel| with |settings|; INVALID_ARGUMENT for a malformed tenant key.
absl::StatusOr<ClientOptions> MakeClientOptions(const ServiceSettings& settings,
                                                std::shared_ptr<grpc::Channel> channel);

// A certifier that signs as the tenant with the credential key whose 32-byte seed is |seed_hex|.
absl::StatusOr<Certifier> SeedCertifier(const std::string& seed_hex);

class MemberDir {
 public:
  explicit MemberDir(std::string path) : path_(std::move(path)) {}

  // Registers |member_id| with its state in this directory (created if missing). The state key is
  // |state_key_hex| (64 hex digits) when given; otherwise a fresh key is written to state.key with
  // mode 0600. ALREADY_EXISTS if the directory already holds a member.
  absl::StatusOr<std::unique_ptr<MemberClient>> Register(ClientOptions options, const std::string& member_id,
                                                         const Certifier& certify,
                                                         const std::string& state_key_hex) const;
  // Opens the member registered here, with |state_key_hex| if given, else the key file.
  absl::StatusOr<std::unique_ptr<MemberClient>> Open(ClientOptions options, const std::string& state_key_hex) const;

  // The member id stored here; FAILED_PRECONDITION if none was registered.
  absl::StatusOr<std::string> MemberId() const;

  const std::string& path() const { return path_; }

 private:
  std::string MemberPath() const { return path_ + "/member"; }
  std::string KeyPath() const { return path_ + "/state.key"; }
  std::string StorePath() const { return path_ + "/store"; }

  // The key from |state_key_hex|, or read from the key file (created first when |create|).
  absl::StatusOr<art::SecretBytes> StateKey(const std::string& state_key_hex, bool create) const;

  std::string path_;
};

}  // namespace artd::client::cli

#endif  // CLIENT_CLI_MEMBER_DIR_H_
