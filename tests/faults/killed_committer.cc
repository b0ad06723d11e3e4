// A member's process killed (SIGKILL, by itself, so at an exact instant) in the middle of its commits,
// for client_killed_test: opens the member from its file store and commits to a group until it is
// killed, either
//   - at the named step of its first commit (the SDK's crash points: before-submit,
//     after-submit-before-save, after-save), or
//   - "after-random-delay": a delay drawn from the seed (0 to 40 ms) after its first commit went
//     through, landing anywhere in the stream of commits that follows (in a call, in a save of its
//     state, between steps).
//
// Usage: killed_committer ADDRESS API_KEY TENANT TRUSTED_KEY_HEX MEMBER STATE_DIR STATE_KEY_HEX GROUP
//                         STEP COMMIT [SEED]
// COMMIT is "update", or "add:ID" (an Add of member ID, a commit that carries a Welcome; then only
// the first commit is an Add, the rest updates). SEED: for after-random-delay.
// Dies of SIGKILL when it got there; exits 2 on an error before, 3 if it made 1,000 commits without
// being killed.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "art/crypto/bytes.h"
#include "client/member_client.h"
#include "client/state_store.h"
#include "client/testing/committer_options.h"

namespace {

constexpr char kRandomDelay[] = "after-random-delay";
constexpr std::string_view kAddPrefix = "add:";

int Fail(const std::string& what) {
  std::fprintf(stderr, "killed_committer: %s\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 11 && argc != 12) return Fail("usage: see killed_committer.cc");
  const std::string group = argv[8];
  const std::string step = argv[9];
  const std::string_view commit = argv[10];
  if (commit != "update" && commit.substr(0, kAddPrefix.size()) != kAddPrefix) return Fail("bad COMMIT");
  uint64_t seed = 0;
  if (step == kRandomDelay && (argc != 12 || !absl::SimpleAtoi(argv[11], &seed))) return Fail("a seed is needed");
  art::Bytes state_key;
  absl::StatusOr<artd::client::ClientOptions> configured = artd::client::CommitterOptions(argv[1], argv[2], argv[3], argv[4]);
  if (!configured.ok() || !art::FromHex(argv[7], &state_key)) return Fail("bad key");
  artd::client::ClientOptions options = *std::move(configured);
  options.retry_base = absl::Milliseconds(2);
  options.crash_point_for_testing = [step](std::string_view reached) {
    if (reached == step) raise(SIGKILL);
  };
  absl::StatusOr<std::unique_ptr<artd::client::StateStore>> store =
      artd::client::OpenFileStateStore(argv[6], art::SecretBytes(state_key));
  if (!store.ok()) return Fail(store.status().ToString());
  absl::StatusOr<std::unique_ptr<artd::client::MemberClient>> member =
      artd::client::MemberClient::Open(options, argv[5], *std::move(store));
  if (!member.ok()) return Fail(member.status().ToString());
  for (int i = 0; i < 1000; ++i) {
    absl::Status committed = i == 0 && commit != "update"
                                 ? (*member)->Add(group, std::string(commit.substr(kAddPrefix.size()))).status()
                                 : (*member)->Update(group).status();
    if (!committed.ok()) return Fail(committed.ToString());
    // Armed once a commit has gone through, so that every kill interrupts a stream already flowing.
    if (i == 0 && step == kRandomDelay) {
      std::mt19937_64 random(seed);
      const auto delay = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 40000)(random));
      std::thread([delay] {
        std::this_thread::sleep_for(delay);
        raise(SIGKILL);
      }).detach();
    }
  }
  return 3;
}
