// The service's own work per request, without gRPC: ServiceCore::PostMessage and
// ServiceCore::SubmitCommit on a SQLite store (synchronous=FULL, so each write batch fsyncs), against
// the one Ed25519 verification every such request needs, measured in the same run. Requests are
// built before the timed loop, so only the service is measured.
//
//   bazel run -c opt //bench:service_benchmark
//   valgrind --tool=callgrind bazel-bin/bench/service_benchmark --benchmark_filter=Post  # where it goes
#include <stdlib.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "art/crypto/ed25519.h"
#include "art/protocol/member_group.h"
#include "art/requests/request_signature.h"
#include "art/testing/group_fixture.h"
#include "service/core/service_core.h"
#include "storage/open_store.h"

namespace artd {
namespace {

using art::testing::ValueOrDie;

constexpr int kOperations = 2000;  // Fixed, so that every request can be built beforehand.

// A tenant (trusting its credential key) with a group of |members| on a fresh SQLite file.
struct Fixture {
  explicit Fixture(int members) {
    char directory[] = "/tmp/artd-service-benchmark.XXXXXX";
    if (mkdtemp(directory) == nullptr) std::abort();
    path = std::string(directory) + "/artd.db";
    store = ValueOrDie(OpenStore(path));
    if (!store->CreateTenant("bench").ok()) std::abort();
    if (!store->AddTenantCredentialKey("bench", Bytes(authority.credential_key().public_key().begin(), authority.credential_key().public_key().end())).ok()) std::abort();
    core.emplace(store.get(), ServiceConfig{});
    std::vector<v1::PrekeyBundle> bundles;
    for (int i = 0; i < members; ++i) {
      people.push_back(authority.NewMember("m" + std::to_string(i), 1));
      if (i > 0) bundles.push_back(people.back()->TakeBundle());
    }
    art::MemberGroup::Created created =
        ValueOrDie(art::MemberGroup::Create(authority.config(), people[0]->identity, "g", bundles));
    v1::CreateGroupRequest create;
    *create.mutable_setup() = created.setup;
    if (!core->CreateGroup("bench", create).ok()) std::abort();
    group.emplace(std::move(created.group));
  }
  ~Fixture() {
    core.reset();
    store.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
    std::remove(path.substr(0, path.rfind('/')).c_str());
  }

  v1::MemberAuth Sign(const art::testing::TestMember& member, std::string_view method, const art::Sha256Digest& digest) {
    return ValueOrDie(art::SignRequest(member.identity.signing_key, "bench", method, member.member_id(), digest,
                                       static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()))));
  }

  art::testing::TestTenant authority{"bench"};
  std::string path;
  std::unique_ptr<Store> store;
  std::optional<ServiceCore> core;
  std::vector<std::unique_ptr<art::testing::TestMember>> people;
  std::optional<art::MemberGroup> group;
};

void BM_Ed25519Verify(benchmark::State& state) {
  const art::Ed25519PrivateKey key = ValueOrDie(art::Ed25519PrivateKey::Generate());
  const art::Bytes message(200, 7);
  const art::Ed25519Signature signature = ValueOrDie(key.Sign(message));
  for (auto _ : state) {
    if (!art::Ed25519Verify(key.public_key(), message, signature).ok()) state.SkipWithError("verify");
  }
}
BENCHMARK(BM_Ed25519Verify)->Iterations(kOperations);

void BM_PostMessage(benchmark::State& state) {
  Fixture fixture(2);
  std::vector<v1::PostMessageRequest> requests(kOperations);
  const art::Bytes payload(1024, 0x5a);
  for (v1::PostMessageRequest& request : requests) {
    *request.mutable_message() = ValueOrDie(fixture.group->Protect(1, payload));
    *request.mutable_auth() = fixture.Sign(*fixture.people[0], art::kPostMessageMethod, art::RequestDigest(request));
  }
  size_t next = 0;
  for (auto _ : state) {
    absl::StatusOr<v1::PostMessageResponse> posted = fixture.core->PostMessage("bench", requests[next++]);
    if (!posted.ok()) state.SkipWithError(posted.status().ToString().c_str());
  }
}
BENCHMARK(BM_PostMessage)->Iterations(kOperations)->Unit(benchmark::kMicrosecond);

// An update commit in a group of state.range(0) members.
void BM_SubmitCommit(benchmark::State& state) {
  Fixture fixture(static_cast<int>(state.range(0)));
  std::vector<v1::SubmitCommitRequest> requests(kOperations);
  for (v1::SubmitCommitRequest& request : requests) {
    art::PendingCommit pending = ValueOrDie(fixture.group->CreateUpdate());
    *request.mutable_commit() = pending.commit;
    fixture.group->ApplyPendingCommit(std::move(pending));
  }
  size_t next = 0;
  for (auto _ : state) {
    absl::StatusOr<v1::SubmitCommitResponse> committed = fixture.core->SubmitCommit("bench", requests[next++]);
    if (!committed.ok()) state.SkipWithError(committed.status().ToString().c_str());
  }
}
BENCHMARK(BM_SubmitCommit)->Arg(2)->Arg(1000)->Iterations(kOperations)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace artd
