// A member's process that dies in the middle of a commit: opens the member from its file store and
// commits an update, ending the process (_exit(0), no cleanup, as a crash) at the named point.
//
// Usage: crash_committer <address> <api key> <tenant> <trusted key hex> <member> <state dir>
//                        <state key hex> <group> <crash point>
// Exits 0 at the crash point, 2 on an error, 3 if the commit finished without reaching the point.
#include <unistd.h>

#include <cstdio>
#include <string>

#include <grpcpp/grpcpp.h>

#include "art/crypto/bytes.h"
#include "client/member_client.h"
#include "client/testing/committer_options.h"

int main(int argc, char** argv) {
  if (argc != 10) {
    std::fprintf(stderr, "usage: %s address api_key tenant trusted_key_hex member dir key_hex group point\n", argv[0]);
    return 2;
  }
  art::Bytes state_key;
  absl::StatusOr<artd::client::ClientOptions> configured = artd::client::CommitterOptions(argv[1], argv[2], argv[3], argv[4]);
  if (!configured.ok() || !art::FromHex(argv[7], &state_key)) {
    std::fprintf(stderr, "bad key\n");
    return 2;
  }
  artd::client::ClientOptions options = *std::move(configured);
  const std::string point = argv[9];
  options.crash_point_for_testing = [point](std::string_view reached) {
    if (reached == point) _exit(0);
  };
  auto store = artd::client::OpenFileStateStore(argv[6], art::SecretBytes(state_key));
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 2;
  }
  auto member = artd::client::MemberClient::Open(options, argv[5], *std::move(store));
  if (!member.ok()) {
    std::fprintf(stderr, "%s\n", member.status().ToString().c_str());
    return 2;
  }
  absl::Status updated = (*member)->Update(argv[8]).status();
  if (!updated.ok()) {
    std::fprintf(stderr, "%s\n", updated.ToString().c_str());
    return 2;
  }
  return 3;
}
