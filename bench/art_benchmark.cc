// Timings of the ART protocol operations, each compared with its "DH floor": the number of X25519
// scalar multiplications the operation cannot avoid, times the cost of one, measured in the same run.
//
//   bazel run -c opt //bench:art_benchmark
//
// Counters on every line:
//   dh_ops          X25519 scalar multiplications the design needs (counted below, per operation)
//   dh_floor_us     dh_ops x one X25519 Agree, in microseconds
//   dh_floor_ratio  mean time / dh_floor   (best_ratio: fastest iteration / dh_floor)
//   dh_op_us        the one-op time used for every floor of this run
// Operations that need no X25519 (Protect, Unprotect) report dh_equiv = mean time / one op instead.
//
// Only the operation itself is timed (manual timing): inputs such as copies of a 10,000-member state
// are made before the clock starts and destroyed after it stops.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "art/crypto/x25519.h"
#include "art/demo/population.h"
#include "art/protocol/member_group.h"
#include "art/tree/tree_math.h"

namespace art {
namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Errors: the benchmarks measure the happy path; a failure makes the numbers meaningless.

[[noreturn]] void Die(const absl::Status& status) {
  std::fprintf(stderr, "art_benchmark: %s\n", status.ToString().c_str());
  std::abort();
}
void Require(const absl::Status& status) {
  if (!status.ok()) Die(status);
}
template <typename T>
void Require(const absl::StatusOr<T>& value) {
  if (!value.ok()) Die(value.status());
}
template <typename T>
T OrDie(absl::StatusOr<T> value) {
  Require(value);
  return *std::move(value);
}

// ---------------------------------------------------------------------------------------------
// The DH floor unit: one X25519 Agree (a scalar multiplication plus the backend's per-call
// overhead), measured once per run: 2,000 calls in 20 batches of 100, the fastest batch's mean (the
// machine is noisy: the fastest batch is the one least disturbed by neighbours, so this is the
// op's undisturbed cost and the ratios err on the high side).

double MeasureDhOpSeconds() {
  const X25519PrivateKey key = OrDie(X25519PrivateKey::Generate());
  const X25519PrivateKey peer = OrDie(X25519PrivateKey::Generate());
  constexpr int kBatches = 20;
  constexpr int kCallsPerBatch = 100;
  std::vector<double> batch_means;
  for (int batch = 0; batch < kBatches; ++batch) {
    const auto start = Clock::now();
    for (int i = 0; i < kCallsPerBatch; ++i) benchmark::DoNotOptimize(OrDie(key.Agree(peer.public_key())));
    batch_means.push_back(std::chrono::duration<double>(Clock::now() - start).count() / kCallsPerBatch);
  }
  return *std::min_element(batch_means.begin(), batch_means.end());
}

double DhOpSeconds() {
  static const double seconds = MeasureDhOpSeconds();
  return seconds;
}

// ---------------------------------------------------------------------------------------------
// DH counts, from the design (shared/spec/art-protocol.md). A full group (no blank leaves, so no
// copy-rule nodes) is assumed; every fixture below is one. "Path" is a leaf's direct path: the
// nodes from its parent up to the root.

constexpr double kOneTimePrekey = 1;  // Every bundle here carries a one-time prekey.
// X25519(ik_c,IKd) X25519(ik_c,EK) X25519(suk,IKd) X25519(suk,EK) [X25519(suk,OPK)]
constexpr double kLeafAgreementDh = 4 + kOneTimePrekey;

double PathLength(LeafIndex leaf, uint32_t leaf_count) {
  return static_cast<double>(DirectPath(LeafToNode(leaf), leaf_count).size());
}

// Setup of n: the creator's leaf (1) and the setup key suk (1); per member j > 0 the leaf
// agreement (4, +1 with a one-time prekey) and the leaf public key (1); per parent node (n - 1 of
// them) one DH with the other child and its public key (2).
double SetupOps(uint32_t n) { return 2 + (n - 1) * (kLeafAgreementDh + 1) + (n - 1) * 2.0; }

// Joining from a setup: the receiver's side of the leaf agreement (4-5), the leaf public key (1),
// then 2 per node of its path (DH with the copath key, new public key), checked against the tree.
double JoinOps(LeafIndex leaf, uint32_t n) { return kLeafAgreementDh + 1 + 2 * PathLength(leaf, n); }

// Update create: a fresh leaf key (1 public key) and 2 per path node.
double UpdateCreateOps(LeafIndex leaf, uint32_t n) { return 1 + 2 * PathLength(leaf, n); }

// Processing a commit whose path starts at |start|: 2 per node from the lowest common ancestor
// with this member up to the root (that node included).
double ProcessOps(LeafIndex own, LeafIndex start, uint32_t n) {
  const NodeIndex ancestor = CommonAncestor(LeafToNode(own), LeafToNode(start));
  return 2 * (1 + static_cast<double>(DirectPath(ancestor, n).size()));
}

// Add (appending leaf n): the ephemeral key (1), the sender's side of the leaf agreement (4-5), the
// newcomer's leaf public key (1) and 2 per node of its path in the grown tree.
double AddOps(uint32_t n) { return 1 + kLeafAgreementDh + 1 + 2 * PathLength(n, n + 1); }

// Remove: a fresh key for the removed leaf (1) and 2 per node of that leaf's path.
double RemoveOps(LeafIndex removed, uint32_t n) { return 1 + 2 * PathLength(removed, n); }

// ---------------------------------------------------------------------------------------------
// Timing. |prepare()| makes a fresh input (untimed), |op(input)| is timed and returns a Status or
// StatusOr, which is checked and destroyed after the clock stops.

void ReportFloor(benchmark::State& state, double dh_ops, double mean_seconds, double best_seconds) {
  const double op = DhOpSeconds();
  state.counters["dh_op_us"] = op * 1e6;
  if (dh_ops > 0) {
    state.counters["dh_ops"] = dh_ops;
    state.counters["dh_floor_us"] = dh_ops * op * 1e6;
    state.counters["dh_floor_ratio"] = mean_seconds / (dh_ops * op);
    state.counters["best_ratio"] = best_seconds / (dh_ops * op);
  } else {
    state.counters["dh_equiv"] = mean_seconds / op;
  }
}

template <typename Prepare, typename Op>
void TimeEach(benchmark::State& state, double dh_ops, Prepare prepare, Op op) {
  double total = 0;
  double best = std::numeric_limits<double>::infinity();
  for (auto _ : state) {
    auto input = prepare();
    const auto start = Clock::now();
    auto result = op(input);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    state.SetIterationTime(seconds);
    Require(result);
    total += seconds;
    best = std::min(best, seconds);
  }
  if (state.iterations() > 0) ReportFloor(state, dh_ops, total / state.iterations(), best);
}

// For operations on state that does not change (const methods).
struct NoInput {};
NoInput Nothing() { return {}; }

// ---------------------------------------------------------------------------------------------
// Groups of n members, built once per size and shared by the benchmarks (never modified by them).
//   leaf 0      the creator; it makes the update, add and remove commits
//   leaf 1      its sibling: processing leaf 0's commits is the worst case (lowest common ancestor)
//   leaf n - 1  in the root's right subtree: a typical member (common ancestor = the root)

struct Fixture {
  uint32_t n = 0;
  demo::Population population;
  v1::Setup setup;
  std::optional<MemberGroup> creator;
  std::optional<MemberGroup> sibling;
  std::optional<MemberGroup> typical;
  // The prekey secrets of the typical member before it joined (joining erases its one-time prekey).
  PrekeySecrets typical_prekeys;
  v1::Commit update;  // By the creator, for the current epoch.
  v1::PrekeyBundle newcomer_bundle;
};

std::unique_ptr<Fixture> BuildFixture(uint32_t n) {
  auto fixture = std::make_unique<Fixture>();
  fixture->n = n;
  fixture->population = demo::MakePopulation(static_cast<int>(n));
  MemberGroup::Created created = OrDie(demo::MakeGroup(fixture->population));
  fixture->setup = std::move(created.setup);
  fixture->creator = std::move(created.group);
  fixture->typical_prekeys = fixture->population.devices[n - 1]->prekeys;
  std::vector<MemberGroup> joined = OrDie(demo::JoinAll(fixture->population, {1, n - 1}, fixture->setup));
  fixture->sibling = std::move(joined[0]);
  fixture->typical = std::move(joined[1]);
  fixture->update = OrDie(fixture->creator->CreateUpdate()).commit;
  fixture->newcomer_bundle = fixture->population.tenant->NewMember("newcomer")->TakeBundle();
  return fixture;
}

const Fixture& FixtureOf(benchmark::State& state) {
  static auto* fixtures = new std::map<uint32_t, std::unique_ptr<Fixture>>();
  const uint32_t n = static_cast<uint32_t>(state.range(0));
  std::unique_ptr<Fixture>& fixture = (*fixtures)[n];
  if (fixture == nullptr) fixture = BuildFixture(n);
  return *fixture;
}

// ---------------------------------------------------------------------------------------------
// The floor unit itself (ratio ~1 by construction; FromSecret shows the cost of a public key).

const X25519PrivateKey& SomeKey() {
  static const X25519PrivateKey key = OrDie(X25519PrivateKey::Generate());
  return key;
}

void BM_X25519Agree(benchmark::State& state) {
  const X25519PrivateKey peer = OrDie(X25519PrivateKey::Generate());
  TimeEach(state, 1, Nothing, [&](NoInput&) { return SomeKey().Agree(peer.public_key()); });
}

void BM_X25519FromSecret(benchmark::State& state) {
  TimeEach(state, 1, Nothing, [](NoInput&) { return X25519PrivateKey::FromSecret(SomeKey().secret().span()); });
}

// ---------------------------------------------------------------------------------------------
// Setup and join.

void BM_Setup(benchmark::State& state) {
  const Fixture& fixture = FixtureOf(state);
  state.counters["threads"] = std::thread::hardware_concurrency();
  TimeEach(state, SetupOps(fixture.n), Nothing,
           [&](NoInput&) { return demo::MakeGroup(fixture.population); });
}

void BM_JoinFromSetup(benchmark::State& state) {
  const Fixture& fixture = FixtureOf(state);
  const testing::TestMember& device = *fixture.population.devices[fixture.n - 1];
  TimeEach(state, JoinOps(fixture.n - 1, fixture.n),
           [&] { return fixture.typical_prekeys; },
           [&](PrekeySecrets& prekeys) {
             return MemberGroup::JoinFromSetup(fixture.population.config(), device.identity, &prekeys,
                                               fixture.setup);
           });
}

// ---------------------------------------------------------------------------------------------
// Commits.

void BM_UpdateCreate(benchmark::State& state) {
  const Fixture& fixture = FixtureOf(state);
  TimeEach(state, UpdateCreateOps(0, fixture.n), Nothing,
           [&](NoInput&) { return fixture.creator->CreateUpdate(); });
}

// Processes the creator's update on a fresh copy of |member|'s state each time.
void ProcessUpdate(benchmark::State& state, const std::optional<MemberGroup> Fixture::*member) {
  const Fixture& fixture = FixtureOf(state);
  const MemberGroup& processor = *(fixture.*member);
  TimeEach(state, ProcessOps(processor.own_leaf(), 0, fixture.n),
           [&] { return std::make_unique<MemberGroup>(processor); },
           [&](std::unique_ptr<MemberGroup>& copy) { return copy->ProcessCommit(fixture.update); });
}

void BM_UpdateProcessWorst(benchmark::State& state) { ProcessUpdate(state, &Fixture::sibling); }
void BM_UpdateProcessTypical(benchmark::State& state) { ProcessUpdate(state, &Fixture::typical); }

void BM_AddCreate(benchmark::State& state) {
  const Fixture& fixture = FixtureOf(state);
  TimeEach(state, AddOps(fixture.n), Nothing,
           [&](NoInput&) { return fixture.creator->CreateAdd(fixture.newcomer_bundle); });
}

void BM_RemoveCreate(benchmark::State& state) {
  const Fixture& fixture = FixtureOf(state);
  const LeafIndex removed = fixture.n - 1;
  TimeEach(state, RemoveOps(removed, fixture.n), Nothing,
           [&](NoInput&) { return fixture.creator->CreateRemove(removed); });
}

// ---------------------------------------------------------------------------------------------
// Application messages of 1 KiB, in a 100-member group: the sibling sends, the typical member reads.

constexpr uint32_t kMessageContentType = 1;

// A sender and a receiver, fresh copies for each run of a benchmark (the sender's ratchet must
// not run ahead of the receiver's skip window).
struct Conversation {
  explicit Conversation(const Fixture& fixture) : sender(*fixture.sibling), receiver(*fixture.typical) {}
  MemberGroup sender;
  MemberGroup receiver;
  Bytes content = Bytes(1024, 0x5a);
};

void BM_Protect1KiB(benchmark::State& state) {
  Conversation conversation(FixtureOf(state));
  TimeEach(state, 0, Nothing, [&](NoInput&) {
    return conversation.sender.Protect(kMessageContentType, conversation.content);
  });
  state.SetBytesProcessed(state.iterations() * conversation.content.size());
}

void BM_Unprotect1KiB(benchmark::State& state) {
  Conversation conversation(FixtureOf(state));
  TimeEach(state, 0,
           [&] { return OrDie(conversation.sender.Protect(kMessageContentType, conversation.content)); },
           [&](v1::ApplicationMessage& message) { return conversation.receiver.Unprotect(message); });
  state.SetBytesProcessed(state.iterations() * conversation.content.size());
}

// ---------------------------------------------------------------------------------------------
// State size. Times a copy of a member's state (which is what persisting it in memory costs) and
// reports: memory_usage (MemberGroup::MemoryUsage, the library's own estimate), heap_bytes (what the
// allocator really handed out for that copy, key objects aside, which copies share) and
// public_state_bytes (the serialized public state a newcomer fetches, with full credentials), plus
// the sizes of the setup and of one update commit on the wire.

size_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

constexpr double kStateTargetBytes = 3e6;

void BM_MemberState(benchmark::State& state) {
  const Fixture& fixture = FixtureOf(state);
  const MemberGroup& member = *fixture.typical;
  const size_t before = HeapInUse();
  auto copy = std::make_unique<MemberGroup>(member);
  const size_t heap_bytes = HeapInUse() - before;
  copy.reset();
  TimeEach(state, 0, Nothing, [&](NoInput&) {
    auto timed_copy = std::make_unique<MemberGroup>(member);
    benchmark::DoNotOptimize(timed_copy.get());
    return absl::OkStatus();
  });
  const v1::PublicGroupState public_state = fixture.population.tenant->PublicStateOf(member.public_group());
  state.counters["memory_usage"] = static_cast<double>(member.MemoryUsage());
  state.counters["heap_bytes"] = static_cast<double>(heap_bytes);
  state.counters["public_state_bytes"] = static_cast<double>(public_state.ByteSizeLong());
  state.counters["setup_bytes"] = static_cast<double>(fixture.setup.ByteSizeLong());
  state.counters["update_commit_bytes"] = static_cast<double>(fixture.update.ByteSizeLong());
  state.counters["under_3MB"] =
      std::max(member.MemoryUsage(), heap_bytes) < kStateTargetBytes ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Registration. Sizes 10..1,000 run until the usual minimum time; 10,000 (a setup takes seconds)
// runs a fixed small number of iterations where one iteration is expensive.

using BenchmarkFunction = void (*)(benchmark::State&);

struct Sized {
  const char* name;
  BenchmarkFunction function;
  int iterations_at_10000;  // 0: as many as the minimum time needs.
};

constexpr Sized kSized[] = {
    {"BM_Setup", BM_Setup, 2},
    {"BM_JoinFromSetup", BM_JoinFromSetup, 3},
    {"BM_UpdateCreate", BM_UpdateCreate, 0},
    {"BM_UpdateProcessWorst", BM_UpdateProcessWorst, 0},
    {"BM_UpdateProcessTypical", BM_UpdateProcessTypical, 0},
    {"BM_AddCreate", BM_AddCreate, 0},
    {"BM_RemoveCreate", BM_RemoveCreate, 0},
    {"BM_MemberState", BM_MemberState, 0},
};

constexpr int kSizes[] = {10, 100, 1000, 10000};
constexpr int kMessageGroupSize = 100;

// Benchmarks that do not depend on the group size: the floor unit and messages (in a group of
// kMessageGroupSize).
struct Fixed {
  const char* name;
  BenchmarkFunction function;
};

constexpr Fixed kFixed[] = {
    {"BM_X25519Agree", BM_X25519Agree},
    {"BM_X25519FromSecret", BM_X25519FromSecret},
    {"BM_Protect1KiB", BM_Protect1KiB},
    {"BM_Unprotect1KiB", BM_Unprotect1KiB},
};

bool RegisterAll() {
  for (const Fixed& fixed : kFixed) {
    benchmark::RegisterBenchmark(fixed.name, fixed.function)
        ->Arg(kMessageGroupSize)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (const Sized& sized : kSized) {
    for (int n : kSizes) {
      auto* registered = benchmark::RegisterBenchmark(sized.name, sized.function)
                             ->Arg(n)
                             ->UseManualTime()
                             ->Unit(benchmark::kMillisecond);
      if (n == 10000 && sized.iterations_at_10000 > 0) registered->Iterations(sized.iterations_at_10000);
    }
  }
  return true;
}

const bool kRegistered = RegisterAll();

}  // namespace
}  // namespace art
