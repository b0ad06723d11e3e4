// The ART core, end to end, in memory: a group of 1,000 members is set up (the creator creates it and
// every other member joins from the Setup), several members update, a newcomer is added and joins
// from its Welcome, a member is removed and can no longer read the group, and members exchange
// messages. Every commit first passes the service's public checks (PublicGroup), as it would in
// production. After each step all members must agree: same epoch, same tree hash as the service's
// view and the same epoch_authenticator.
//
//   bazel run -c opt //art/demo:core_demo [-- --members=1000 --updates=3]
//
// Members' work runs in parallel on all cores (each member touches only its own state), so the
// table shows wall-clock times on this machine.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "art/base/parallel.h"
#include "art/demo/population.h"
#include "art/protocol/member_group.h"
#include "art/protocol/public_group.h"

namespace art::demo {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "core_demo: %s: %s\n", what.c_str(), status.ToString().c_str());
  std::exit(1);
}
template <typename T>
T OrFail(const std::string& what, absl::StatusOr<T> value) {
  if (!value.ok()) Fail(what, value.status());
  return *std::move(value);
}
void Check(const std::string& what, bool condition) {
  if (!condition) Fail(what, absl::InternalError("check failed"));
}

// The timing table.
struct Step {
  std::string name;
  double seconds;
  std::string detail;
};

class Timeline {
 public:
  // Runs |body|, records its wall time under |name| and returns what it returned.
  template <typename Body>
  auto Time(const std::string& name, Body body, const std::string& detail = "") {
    const auto start = Clock::now();
    auto result = body();
    steps_.push_back({name, std::chrono::duration<double>(Clock::now() - start).count(), detail});
    return result;
  }
  // Sets the detail column of the last step.
  void Detail(std::string detail) { steps_.back().detail = std::move(detail); }
  // Sets it to the last step's time per member for |count| members.
  void DetailPerMember(size_t count) {
    Detail(absl::StrCat(count, " members in parallel, ",
                        static_cast<long>(steps_.back().seconds * 1e6 / std::max<size_t>(count, 1)),
                        " us wall per member"));
  }

  void Print() const {
    std::printf("\n%-46s %12s   %s\n", "step", "wall ms", "detail");
    std::printf("%s\n", std::string(100, '-').c_str());
    double total = 0;
    for (const Step& step : steps_) {
      std::printf("%-46s %12.1f   %s\n", step.name.c_str(), step.seconds * 1e3, step.detail.c_str());
      total += step.seconds;
    }
    std::printf("%-46s %12.1f\n", "total", total * 1e3);
  }

 private:
  std::vector<Step> steps_;
};

// The group as a whole: the members' devices and states, and the service's public view.
class World {
 public:
  World(Population population, PublicGroup service, std::vector<std::optional<MemberGroup>> members)
      : population_(std::move(population)), service_(std::move(service)), members_(std::move(members)) {}

  Population& population() { return population_; }
  const PublicGroup& service() const { return service_; }
  MemberGroup& member(LeafIndex leaf) { return *members_.at(leaf); }
  size_t active_count() const {
    return std::count_if(members_.begin(), members_.end(), [](const auto& m) { return m.has_value(); });
  }

  // Runs |work(leaf, group)| for every member but |except|, in parallel.
  template <typename Work>
  absl::Status ForEachMember(LeafIndex except, Work work) {
    return ParallelFor(members_.size(), 0, [&](size_t begin, size_t end) -> absl::Status {
      for (size_t leaf = begin; leaf < end; ++leaf) {
        if (!members_[leaf].has_value() || leaf == except) continue;
        absl::Status status = work(static_cast<LeafIndex>(leaf), *members_[leaf]);
        if (!status.ok()) return absl::Status(status.code(), absl::StrCat("leaf ", leaf, ": ", status.message()));
      }
      return absl::OkStatus();
    });
  }

  // The service accepts |pending| (its public checks), the committer applies it, everyone else
  // processes it. Members the commit removed leave |members_|; their final state is returned.
  std::vector<MemberGroup> Deliver(Timeline& timeline, LeafIndex committer, PendingCommit pending) {
    const v1::Commit commit = pending.commit;
    timeline.Time("  service: public checks + apply", [&] {
      StagedPublicCommit staged =
          OrFail("service rejected the commit",
                 service_.StageCommit(commit, population_.config().trusted_tenant_keys));
      service_.Apply(std::move(staged));
      return 0;
    });
    member(committer).ApplyPendingCommit(std::move(pending));
    const size_t processors = active_count() - 1;
    timeline.Time("  all other members: ProcessCommit", [&] {
      absl::Status status = ForEachMember(committer, [&](LeafIndex, MemberGroup& group) {
        return group.ProcessCommit(commit);
      });
      if (!status.ok()) Fail("a member rejected the commit", status);
      return 0;
    });
    timeline.DetailPerMember(processors);
    std::vector<MemberGroup> removed;
    for (auto& slot : members_) {
      if (slot.has_value() && !slot->is_active()) {
        removed.push_back(*std::move(slot));
        slot.reset();
      }
    }
    return removed;
  }

  void Seat(MemberGroup group) {
    const LeafIndex leaf = group.own_leaf();
    if (members_.size() <= leaf) members_.resize(leaf + 1);
    members_[leaf] = std::move(group);
  }

  // Everyone at the service's epoch and tree hash with one epoch_authenticator. Prints the result.
  void CheckAgreement(const std::string& after) {
    const SecretBytes* authenticator = nullptr;
    size_t agreeing = 0;
    for (const auto& slot : members_) {
      if (!slot.has_value()) continue;
      if (authenticator == nullptr) authenticator = &slot->epoch_authenticator();
      if (slot->epoch() == service_.epoch() && slot->tree_hash() == service_.tree_hash() &&
          slot->epoch_authenticator() == *authenticator) {
        ++agreeing;
      }
    }
    std::printf("after %-28s epoch %llu: %zu of %zu members agree (epoch, tree hash, epoch_authenticator)\n",
                after.c_str(), static_cast<unsigned long long>(service_.epoch()), agreeing,
                active_count());
    Check(absl::StrCat("all members agree after ", after), agreeing == active_count());
  }

 private:
  Population population_;
  PublicGroup service_;
  std::vector<std::optional<MemberGroup>> members_;
};

struct Options {
  int members = 1000;
  // Members besides the creator that come online and join during the demo; the rest stay offline
  // (each join checks every member's credential, so joining all 1,000 takes minutes on 2 cores).
  int online = 48;
  int updates = 3;
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strncmp(arg, "--members=", 10) == 0) {
      options.members = std::atoi(arg + 10);
    } else if (std::strncmp(arg, "--updates=", 10) == 0) {
      options.updates = std::atoi(arg + 10);
    } else if (std::strncmp(arg, "--online=", 9) == 0) {
      options.online = std::atoi(arg + 9);
    } else {
      std::fprintf(stderr, "usage: core_demo [--members=N (>= 8)] [--online=K (members who join, >= 5)] [--updates=K]\n");
      std::exit(2);
    }
  }
  if (options.members < 8 || options.members > 65535) {
    std::fprintf(stderr, "core_demo: --members must be 8..65535\n");
    std::exit(2);
  }
  options.online = std::clamp(options.online, 5, options.members - 1);
  return options;
}

// The leaves that come online: those the demo's steps use (1, 2, 3, 5 and the last), then others
// spread evenly over the tree, |options.online| in all, in increasing order.
std::vector<LeafIndex> OnlineLeaves(const Options& options) {
  const LeafIndex last = static_cast<LeafIndex>(options.members - 1);
  std::set<LeafIndex> online = {1, 2, 3, 5, last};
  for (int i = 0; static_cast<int>(online.size()) < options.online; ++i) {
    online.insert(static_cast<LeafIndex>(1 + (static_cast<uint64_t>(i) * 7919) % last));
  }
  return std::vector<LeafIndex>(online.begin(), online.end());
}

// Sets up the group: provisioning, Create, the service's check, every member's join.
World SetUp(Timeline& timeline, const Options& options) {
  const int n = options.members;
  Population population = timeline.Time("provision devices (identity, prekeys)",
                                        [&] { return MakePopulation(n); },
                                        absl::StrCat(n, " members; not protocol work"));
  MemberGroup::Created created = timeline.Time(
      "setup: creator runs MemberGroup::Create", [&] { return OrFail("Create", MakeGroup(population)); },
      absl::StrCat(n, " leaves, on ", std::thread::hardware_concurrency(), " threads"));
  PublicGroup service = timeline.Time("setup: service verifies the Setup", [&] {
    return OrFail("service FromSetup", PublicGroup::FromSetup(population.config().tenant_id, created.setup,
                                                              population.config().trusted_tenant_keys));
  });
  const std::vector<LeafIndex> joiners = OnlineLeaves(options);
  std::vector<MemberGroup> joined =
      timeline.Time(absl::StrCat("setup: ", joiners.size(), " members come online, JoinFromSetup"), [&] {
        return OrFail("JoinFromSetup", JoinAll(population, joiners, created.setup));
      });
  timeline.DetailPerMember(joiners.size());
  std::printf("%zu of %d members came online and joined; the others stay offline\n", joiners.size(), n - 1);
  std::vector<std::optional<MemberGroup>> members(n);
  members[0] = std::move(created.group);
  for (size_t i = 0; i < joiners.size(); ++i) members[joiners[i]] = std::move(joined[i]);
  return World(std::move(population), std::move(service), std::move(members));
}

// Commits |make()| (a PendingCommit by |committer|) and delivers it: one block of the timeline.
template <typename Make>
std::vector<MemberGroup> Commit(Timeline& timeline, World& world, const std::string& name, LeafIndex committer,
                                Make make) {
  std::printf("%s\n", name.c_str());
  PendingCommit pending =
      timeline.Time(absl::StrCat(name, ": create"), [&] { return OrFail(name, make(world.member(committer))); });
  timeline.Detail(absl::StrCat("by leaf ", committer, ", ", pending.commit.ByteSizeLong(), " bytes on the wire"));
  return world.Deliver(timeline, committer, std::move(pending));
}

// |sender| protects a message; every other member reads it. Returns how many could.
size_t Broadcast(Timeline& timeline, World& world, LeafIndex sender, const std::string& text) {
  v1::ApplicationMessage message = timeline.Time(absl::StrCat("message from leaf ", sender, ": Protect"), [&] {
    return OrFail("Protect", world.member(sender).Protect(1, AsBytes(text)));
  });
  std::atomic<size_t> read{0};
  timeline.Time("  all other members: Unprotect", [&] {
    absl::Status status = world.ForEachMember(sender, [&](LeafIndex, MemberGroup& group) -> absl::Status {
      absl::StatusOr<ReceivedMessage> received = group.Unprotect(message);
      if (!received.ok()) return received.status();
      const ByteSpan content = received->content.span();
      if (std::string(content.begin(), content.end()) != text) return absl::DataLossError("wrong content");
      ++read;
      return absl::OkStatus();
    });
    if (!status.ok()) Fail("a member could not read the message", status);
    return 0;
  });
  timeline.DetailPerMember(read);
  std::printf("leaf %u sent \"%s\": %zu members read it\n", sender, text.c_str(), read.load());
  return read;
}

int Run(const Options& options) {
  Timeline timeline;
  const LeafIndex last = static_cast<LeafIndex>(options.members - 1);
  std::printf("ART core demo: %d members (%d come online), in memory, %u cores\n\n", options.members,
              options.online + 1,
              std::thread::hardware_concurrency());
  World world = SetUp(timeline, options);
  world.CheckAgreement("setup");

  // Updates from online leaves spread over the tree: the creator, then others up to the last leaf.
  const std::vector<LeafIndex> online = OnlineLeaves(options);
  for (int i = 0; i < options.updates; ++i) {
    const LeafIndex updater =
        i == 0 ? 0 : online[(online.size() - 1) * static_cast<size_t>(i) / std::max(1, options.updates - 1)];
    Commit(timeline, world, absl::StrCat("update by leaf ", updater), updater,
           [](MemberGroup& group) { return group.CreateUpdate(); });
    world.CheckAgreement(absl::StrCat("update by leaf ", updater));
  }

  // Add: leaf 2 adds a newcomer, which joins from the Welcome and the public state the service
  // hands it.
  const LeafIndex adder = 2;
  std::unique_ptr<testing::TestMember> newcomer = world.population().tenant->NewMember("newcomer");
  const v1::PrekeyBundle bundle = newcomer->TakeBundle();
  std::optional<v1::Welcome> welcome;
  v1::Commit add_commit;
  Commit(timeline, world, "add of \"newcomer\"", adder, [&](MemberGroup& group) {
    absl::StatusOr<PendingCommit> pending = group.CreateAdd(bundle);
    if (pending.ok()) {
      welcome = pending->welcome;
      add_commit = pending->commit;
    }
    return pending;
  });
  MemberGroup joined = timeline.Time("  newcomer: JoinFromWelcome", [&] {
    const v1::PublicGroupState state = world.population().tenant->PublicStateOf(world.service());
    return OrFail("JoinFromWelcome", MemberGroup::JoinFromWelcome(world.population().config(),
                                                                  newcomer->identity, &newcomer->prekeys,
                                                                  *welcome, add_commit, state));
  });
  std::printf("newcomer joined at leaf %u\n", joined.own_leaf());
  world.Seat(std::move(joined));
  world.CheckAgreement("add");

  // Remove: the creator removes leaf 3. Keep the victim's state from before the commit (as if it
  // ignored the commit) as well as its state after processing the commit.
  const LeafIndex victim = 3;
  MemberGroup stale_victim = world.member(victim);
  std::vector<MemberGroup> removed = Commit(timeline, world, absl::StrCat("remove of leaf ", victim), 0,
                                            [&](MemberGroup& group) { return group.CreateRemove(victim); });
  Check("exactly the victim was removed", removed.size() == 1 && removed[0].own_leaf() == victim);
  world.CheckAgreement("remove");

  // Messages in the new epoch: every member reads them; the removed member cannot.
  Broadcast(timeline, world, 1, "hello from leaf 1");
  Broadcast(timeline, world, last, "and hello back from the last leaf");
  const v1::ApplicationMessage after_removal =
      OrFail("Protect", world.member(5).Protect(1, AsBytes(std::string("not for the removed member"))));
  const absl::Status processed_removed = removed[0].Unprotect(after_removal).status();
  const absl::Status stale_removed = stale_victim.Unprotect(after_removal).status();
  std::printf("removed member (processed the remove) reading a new message: %s\n",
              processed_removed.ToString().c_str());
  std::printf("removed member (ignored the remove, old state) reading it: %s\n",
              stale_removed.ToString().c_str());
  Check("the removed member cannot read new messages", !processed_removed.ok() && !stale_removed.ok());
  Check("the removed member's state has no secrets", !removed[0].is_active());

  world.CheckAgreement("messages");
  timeline.Print();
  std::printf("\nOK: every step verified; all %zu members agree at epoch %llu.\n", world.active_count(),
              static_cast<unsigned long long>(world.service().epoch()));
  return 0;
}

}  // namespace
}  // namespace art::demo

int main(int argc, char** argv) { return art::demo::Run(art::demo::ParseOptions(argc, argv)); }
