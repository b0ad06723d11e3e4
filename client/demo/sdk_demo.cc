// The client SDK end to end against a running artd: members register (each its own MemberClient on
// its own encrypted file store, in parallel threads), one creates a group of all of them, a sample
// of members comes online at different points of the story and joins (the last ones catching up
// over several updates), members update (two of them racing for one epoch), messages flow, and a
// removed member is shown unable to read. After each step every online member catches up and they
// compare epoch and epoch_authenticator. Everything goes through MemberClient; nothing reaches
// into the service or the protocol core.
//
// Standing in for the tenant's authentication service: in production the tenant's backend certifies
// each member's credential after authenticating the user, with a credential key whose public half
// the tenant registered with artd. Here `sdk_demo --print-tenant-key` makes such a key pair, the run
// script registers the public key (`artd admin add-credential-key`) and passes the seed back in
// --tenant-signing-seed, and the demo certifies its members with it.
//
//   scripts/run.sh          # builds, starts artd on SQLite, runs this demo, stops artd
//   sdk_demo --target 127.0.0.1:PORT --api-key KEY --tenant T --tenant-signing-seed HEX
//            [--members=1000] [--online=40] [--updates=3] [--threads=16] [--state-dir DIR]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "art/base/status_macros.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/random.h"
#include "art/identity/credential.h"
#include "client/member_client.h"
#include "client/state_store.h"

namespace artd::client::demo {
namespace {

constexpr char kGroup[] = "demo-group";

struct Flags {
  std::string target = "127.0.0.1:50051";
  std::string api_key;
  std::string tenant;
  std::string tenant_signing_seed;  // Hex.
  int members = 1000;
  int online = 40;  // Members besides the creator that come online during the story.
  int updates = 3;
  int threads = 16;
  std::string state_dir;  // Empty: a fresh temporary directory, deleted at the end.
  double connect_seconds = 30;
};

// ---- Timing ----

// Wall time per step of the story, printed as a table at the end. Every member call crosses the
// loopback to artd and its SQLite database, so these are service round trips plus client crypto.
class Timeline {
 public:
  // Runs |body| (returning absl::Status) as the step |name|; a failure is prefixed with the name.
  template <typename Body>
  absl::Status Step(std::string name, Body body) {
    const absl::Time start = absl::Now();
    absl::Status status = body();
    rows_.push_back(Row{std::move(name), absl::Now() - start, ""});
    if (status.ok()) return status;
    return absl::Status(status.code(), absl::StrCat(rows_.back().name, ": ", status.message()));
  }
  // Sets the detail column of the step just run.
  void Detail(std::string detail) { rows_.back().detail = std::move(detail); }
  // The same, with the step's wall time per member for |count| members worked in parallel.
  void DetailPerMember(size_t count, const std::string& what) {
    const double per_member = absl::ToDoubleMilliseconds(rows_.back().wall) / std::max<size_t>(count, 1);
    Detail(absl::StrFormat("%zu %s, %.1f ms wall per member", count, what, per_member));
  }

  void Print() const {
    std::printf("\n%-52s %10s   %s\n%s\n", "step", "wall ms", "detail", std::string(110, '-').c_str());
    absl::Duration total;
    for (const Row& row : rows_) {
      std::printf("%-52s %10.1f   %s\n", row.name.c_str(), absl::ToDoubleMilliseconds(row.wall),
                  row.detail.c_str());
      total += row.wall;
    }
    std::printf("%-52s %10.1f\n", "total", absl::ToDoubleMilliseconds(total));
  }

 private:
  struct Row {
    std::string name;
    absl::Duration wall;
    std::string detail;
  };
  std::vector<Row> rows_;
};

// Runs |work(i)| for every i < |count| on up to |threads| threads, each taking the next index from a
// shared counter: member calls wait on the network and on fsync as much as on the CPU, so more
// threads than cores pay off. Stops handing out work at the first error and returns it.
absl::Status ParallelEach(size_t count, int threads, const std::function<absl::Status(size_t)>& work) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  absl::Status first_error;
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++) {
      absl::Status status = work(i);
      if (status.ok()) continue;
      std::lock_guard<std::mutex> lock(mutex);
      if (first_error.ok()) first_error = std::move(status);
      next = count;
      return;
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::min(count, static_cast<size_t>(std::max(threads, 1))); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  return first_error;
}

// ---- The members' devices ----

// Member i is "member-000i" and sits at leaf i of the group (the creator is member 0 and lists the
// others in order). Each member's state lives in its own directory under |root|, encrypted under
// the application's state key; a member is online while a MemberClient is open on its store.
class Fleet {
 public:
  Fleet(ClientOptions options, Certifier certify, std::string root, art::SecretBytes state_key)
      : options_(std::move(options)),
        certify_(std::move(certify)),
        root_(std::move(root)),
        state_key_(std::move(state_key)) {}

  static std::string MemberId(size_t index) { return absl::StrFormat("member-%04zu", index); }

  // A new member: identity, credential certified by the tenant, prekeys published, state saved.
  // Its MemberClient is closed again at once: the member goes offline until it is needed.
  absl::Status Register(size_t index) {
    ART_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> store, OpenStore(index));
    return MemberClient::Register(options_, MemberId(index), certify_, std::move(store)).status();
  }

  // The member's device starts the app: a MemberClient opened on the state it saved.
  absl::StatusOr<MemberClient*> ComeOnline(size_t index) {
    ART_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> store, OpenStore(index));
    ART_ASSIGN_OR_RETURN(std::unique_ptr<MemberClient> client,
                         MemberClient::Open(options_, MemberId(index), std::move(store)));
    std::lock_guard<std::mutex> lock(mutex_);
    return (online_[index] = std::move(client)).get();
  }

  MemberClient& member(size_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    return *online_.at(index);
  }

 private:
  absl::StatusOr<std::unique_ptr<StateStore>> OpenStore(size_t index) const {
    return OpenFileStateStore((std::filesystem::path(root_) / MemberId(index)).string(), state_key_);
  }

  const ClientOptions options_;
  const Certifier certify_;
  const std::string root_;
  // One key for every device of the demo; a real application keeps each device's own key in the
  // platform keystore.
  const art::SecretBytes state_key_;
  std::mutex mutex_;
  std::map<size_t, std::unique_ptr<MemberClient>> online_;
};

std::string ShortHex(const art::SecretBytes& bytes) {
  return art::ToHex(bytes.span().subspan(0, 8)) + "…";
}

// ---- The story ----

class Story {
 public:
  Story(const Flags& flags, Fleet& fleet) : flags_(flags), fleet_(fleet) { PlanWaves(); }

  absl::Status Run() {
    const size_t n = static_cast<size_t>(flags_.members);
    std::printf("artd client SDK demo: %zu members at %s, tenant %s, %u cores\n\n", n, flags_.target.c_str(),
                flags_.tenant.c_str(), std::thread::hardware_concurrency());
    ART_RETURN_IF_ERROR(RegisterEveryone());
    ART_RETURN_IF_ERROR(CreateGroup());
    std::printf("%zu of %zu other members will come online, in three waves; the rest stay offline\n",
                waves_[0].size() + waves_[1].size() + waves_[2].size(), n - 1);

    ART_RETURN_IF_ERROR(ComeOnlineAndJoin(0, "right after the setup"));
    ART_RETURN_IF_ERROR(Update(0));
    ART_RETURN_IF_ERROR(ComeOnlineAndJoin(1, "after the first update"));
    // The remaining updates come from wave-1 members spread from the far end of the tree.
    const std::vector<size_t>& first = waves_[0];
    for (int i = 1; i < flags_.updates; ++i) {
      ART_RETURN_IF_ERROR(Update(first[first.size() - 1 - (i - 1) % first.size()]));
    }
    ART_RETURN_IF_ERROR(RaceUpdates(waves_[0][0], waves_[1][0]));
    ART_RETURN_IF_ERROR(ComeOnlineAndJoin(2, "late, catching up over every update so far"));
    ART_RETURN_IF_ERROR(AddNewcomer(waves_[2][0]));

    ART_RETURN_IF_ERROR(SendToEveryone(waves_[2].back(), "hello from the last wave"));
    ART_RETURN_IF_ERROR(SendToEveryone(0, "welcome, everyone"));
    ART_RETURN_IF_ERROR(RemoveAndShow(0, waves_[0][1], waves_[1].back()));

    timeline_.Print();
    ART_ASSIGN_OR_RETURN(GroupInfo info, fleet_.member(0).Info(kGroup));
    std::printf("\nOK: every step verified; all %zu online members agree at epoch %llu (%zu members in the "
                "group, %zu of them never came online).\n",
                online_.size(), static_cast<unsigned long long>(info.epoch), info.members.size(),
                info.members.size() - online_.size());
    return absl::OkStatus();
  }

 private:
  // The sample that comes online: |flags_.online| members evenly spread over leaves 1..n-1, dealt
  // into three waves in turn (half, a quarter, a quarter) so that every wave covers the whole tree.
  void PlanWaves() {
    const size_t n = static_cast<size_t>(flags_.members);
    const size_t k = static_cast<size_t>(flags_.online);
    for (size_t j = 0; j < k; ++j) {
      const size_t index = 1 + j * (n - 2) / (k - 1);
      const size_t deal = j % 4;
      waves_[deal < 2 ? 0 : deal - 1].push_back(index);
    }
  }

  absl::Status RegisterEveryone() {
    const size_t n = static_cast<size_t>(flags_.members);
    std::atomic<size_t> done{0};
    std::mutex print_mutex;
    const absl::Time start = absl::Now();
    std::printf("registering %zu members (identity keys, tenant certificate, prekeys), %d threads\n", n,
                flags_.threads);
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat("register ", n, " members"), [&] {
      return ParallelEach(n, flags_.threads, [&](size_t index) -> absl::Status {
        ART_RETURN_IF_ERROR(fleet_.Register(index));
        const size_t count = ++done;
        if (count % std::max<size_t>(n / 10, 1) == 0 || count == n) {
          std::lock_guard<std::mutex> lock(print_mutex);
          std::printf("  registered %4zu of %zu  (%.1f s)\n", count, n, absl::ToDoubleSeconds(absl::Now() - start));
        }
        return absl::OkStatus();
      });
    }));
    timeline_.DetailPerMember(n, absl::StrCat("MemberClient::Register on ", flags_.threads, " threads"));
    return absl::OkStatus();
  }

  absl::Status CreateGroup() {
    const size_t n = static_cast<size_t>(flags_.members);
    std::vector<std::string> others;
    for (size_t index = 1; index < n; ++index) others.push_back(Fleet::MemberId(index));
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat(Fleet::MemberId(0), " creates a group of ", n), [&] {
      ART_ASSIGN_OR_RETURN(MemberClient * creator, fleet_.ComeOnline(0));
      ART_ASSIGN_OR_RETURN(GroupInfo info, creator->CreateGroup(kGroup, others));
      std::printf("%s created \"%s\" with %zu members at epoch %llu (fetched %zu prekey bundles)\n",
                  creator->member_id().c_str(), kGroup, info.members.size(),
                  static_cast<unsigned long long>(info.epoch), others.size());
      return absl::OkStatus();
    }));
    timeline_.Detail("CreateGroup: bundles, Setup, CreateGroup call");
    online_.push_back(0);
    return absl::OkStatus();
  }

  // Wave |wave| comes online (each device opens its stored state) and joins from the Setup,
  // catching up over every commit since.
  absl::Status ComeOnlineAndJoin(int wave, const std::string& when) {
    const std::vector<size_t>& members = waves_[wave];
    std::vector<uint64_t> epochs(members.size());
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat("wave ", wave + 1, ": ", members.size(), " come online, JoinGroup"),
                                       [&] {
      return ParallelEach(members.size(), flags_.threads, [&](size_t i) -> absl::Status {
        ART_ASSIGN_OR_RETURN(MemberClient * member, fleet_.ComeOnline(members[i]));
        ART_ASSIGN_OR_RETURN(GroupInfo info, member->JoinGroup(kGroup));
        epochs[i] = info.epoch;
        return absl::OkStatus();
      });
    }));
    timeline_.DetailPerMember(members.size(), "joins");
    online_.insert(online_.end(), members.begin(), members.end());
    std::printf("wave %d (%s): %zu members came online and joined, now at epoch %llu (leaves %zu..%zu)\n",
                wave + 1, when.c_str(), members.size(), static_cast<unsigned long long>(epochs.back()),
                members.front(), members.back());
    return CheckAgreement(absl::StrCat("wave ", wave + 1, " joined"));
  }

  absl::Status Update(size_t updater) {
    MemberClient& member = fleet_.member(updater);
    uint64_t epoch = 0;
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat("update by ", member.member_id()), [&] {
      ART_ASSIGN_OR_RETURN(GroupInfo info, member.Update(kGroup));
      epoch = info.epoch;
      return absl::OkStatus();
    }));
    timeline_.Detail(absl::StrCat("Update (new path of keys) -> epoch ", epoch));
    std::printf("%s updated: epoch %llu\n", member.member_id().c_str(), static_cast<unsigned long long>(epoch));
    return CheckAgreement(absl::StrCat("update by ", member.member_id()));
  }

  // Two members commit for the same epoch at once: the service accepts one, the other's SDK catches
  // up on the winner's commit, rebuilds its own and wins the next epoch.
  absl::Status RaceUpdates(size_t a, size_t b) {
    const size_t racers[] = {a, b};
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat("race: ", Fleet::MemberId(a), " and ", Fleet::MemberId(b),
                                                    " update at once"),
                                       [&] {
      return ParallelEach(2, 2, [&](size_t i) { return fleet_.member(racers[i]).Update(kGroup).status(); });
    }));
    timeline_.Detail("a loser of the race catches up and retries");
    std::printf("%s and %s updated at the same moment: both commits went through, one after the other\n",
                Fleet::MemberId(a).c_str(), Fleet::MemberId(b).c_str());
    return CheckAgreement("the race");
  }

  // A member registered after the group was made joins through an Add by |adder| and its Welcome.
  absl::Status AddNewcomer(size_t adder) {
    const size_t newcomer = static_cast<size_t>(flags_.members);
    const std::string newcomer_id = Fleet::MemberId(newcomer);
    MemberClient& by = fleet_.member(adder);
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat("newcomer ", newcomer_id, " registers"),
                                       [&] { return fleet_.Register(newcomer); }));
    uint64_t epoch = 0;
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat(by.member_id(), " adds ", newcomer_id), [&] {
      ART_ASSIGN_OR_RETURN(GroupInfo info, by.Add(kGroup, newcomer_id));
      epoch = info.epoch;
      return absl::OkStatus();
    }));
    timeline_.Detail(absl::StrCat("Add -> epoch ", epoch, ", with a Welcome for the newcomer"));
    ART_RETURN_IF_ERROR(timeline_.Step("  newcomer comes online: AcceptWelcomes", [&] {
      ART_ASSIGN_OR_RETURN(MemberClient * member, fleet_.ComeOnline(newcomer));
      ART_ASSIGN_OR_RETURN(std::vector<GroupInfo> joined, member->AcceptWelcomes());
      if (joined.size() == 1 && joined[0].group_id == kGroup) return absl::OkStatus();
      return absl::InternalError(absl::StrCat(newcomer_id, " found no Welcome to ", kGroup));
    }));
    online_.push_back(newcomer);
    std::printf("%s registered after the setup; %s added it (epoch %llu) and it joined from its Welcome\n",
                newcomer_id.c_str(), by.member_id().c_str(), static_cast<unsigned long long>(epoch));
    return CheckAgreement(absl::StrCat("the add of ", newcomer_id));
  }

  // |sender| sends |text|; every other online member receives and must read exactly it.
  absl::Status SendToEveryone(size_t sender, const std::string& text) {
    MemberClient& from = fleet_.member(sender);
    ART_ASSIGN_OR_RETURN(const GroupInfo before, from.Info(kGroup));
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat("message from ", from.member_id(), ": Send"),
                                       [&] { return from.Send(kGroup, art::AsBytes(text)).status(); }));
    ART_ASSIGN_OR_RETURN(const GroupInfo after, from.Info(kGroup));
    // A member that joined from the Setup holds keys for its leaf that the creator chose: its first
    // Send commits an update before anything is encrypted.
    timeline_.Detail(after.epoch == before.epoch ? "encrypt + post"
                                                 : absl::StrCat("first send: update to epoch ", after.epoch,
                                                                " first, then encrypt + post"));
    std::vector<size_t> readers;
    for (size_t index : online_) {
      if (index != sender) readers.push_back(index);
    }
    ART_RETURN_IF_ERROR(ReceiveEverywhere(readers, text));
    std::printf("%s sent \"%s\" at epoch %llu: all %zu other online members read it\n", from.member_id().c_str(),
                text.c_str(), static_cast<unsigned long long>(after.epoch), readers.size());
    return CheckAgreement(absl::StrCat("message from ", from.member_id()));
  }

  absl::Status ReceiveEverywhere(const std::vector<size_t>& readers, const std::string& text) {
    ART_RETURN_IF_ERROR(timeline_.Step("  every other online member: Receive", [&] {
      return ParallelEach(readers.size(), flags_.threads, [&](size_t i) -> absl::Status {
        MemberClient& reader = fleet_.member(readers[i]);
        ART_ASSIGN_OR_RETURN(std::vector<ReceivedMessage> received, reader.Receive(kGroup));
        const bool read = std::any_of(received.begin(), received.end(), [&](const ReceivedMessage& message) {
          return std::string(message.content.data(), message.content.data() + message.content.size()) == text;
        });
        if (read) return absl::OkStatus();
        return absl::DataLossError(absl::StrCat(reader.member_id(), " did not read \"", text, "\""));
      });
    }));
    timeline_.DetailPerMember(readers.size(), "readers (commits first, then messages)");
    return absl::OkStatus();
  }

  // |remover| removes |victim|; |sender| then sends, and the victim tries to read.
  absl::Status RemoveAndShow(size_t remover, size_t victim, size_t sender) {
    MemberClient& by = fleet_.member(remover);
    MemberClient& removed = fleet_.member(victim);
    uint64_t epoch = 0;
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat(by.member_id(), " removes ", removed.member_id()), [&] {
      ART_ASSIGN_OR_RETURN(GroupInfo info, by.Remove(kGroup, removed.member_id()));
      epoch = info.epoch;
      return absl::OkStatus();
    }));
    timeline_.Detail(absl::StrCat("Remove -> epoch ", epoch, ", the leaf blanked and its path renewed"));
    std::printf("%s removed %s: epoch %llu\n", by.member_id().c_str(), removed.member_id().c_str(),
                static_cast<unsigned long long>(epoch));
    online_.erase(std::find(online_.begin(), online_.end(), victim));
    ART_RETURN_IF_ERROR(CheckAgreement(absl::StrCat("the removal of ", removed.member_id())));
    ART_RETURN_IF_ERROR(SendToEveryone(sender, "after the removal"));

    const absl::StatusOr<std::vector<ReceivedMessage>> attempt = removed.Receive(kGroup);
    const std::string outcome =
        attempt.ok() ? absl::StrCat("read ", attempt->size(), " message(s)") : attempt.status().ToString();
    std::printf("removed member %s tries Receive: %s\n", removed.member_id().c_str(), outcome.c_str());
    if (!absl::IsFailedPrecondition(attempt.status())) {
      return absl::InternalError("the removed member was not refused with FAILED_PRECONDITION");
    }
    ART_ASSIGN_OR_RETURN(const GroupInfo view, removed.Info(kGroup));
    std::printf("removed member %s can no longer decrypt: its state stops at epoch %llu with no epoch secrets "
                "(epoch_authenticator %s)\n",
                removed.member_id().c_str(), static_cast<unsigned long long>(view.epoch),
                view.epoch_authenticator.empty() ? "erased" : "still present!");
    if (!view.epoch_authenticator.empty()) return absl::InternalError("the removed member kept its secrets");
    return absl::OkStatus();
  }

  // Every online member catches up; all must be at one epoch with one epoch_authenticator.
  absl::Status CheckAgreement(const std::string& after) {
    std::vector<GroupInfo> infos(online_.size());
    ART_RETURN_IF_ERROR(timeline_.Step(absl::StrCat("  ", online_.size(), " online members: CatchUp + compare"), [&] {
      return ParallelEach(online_.size(), flags_.threads, [&](size_t i) -> absl::Status {
        ART_ASSIGN_OR_RETURN(infos[i], fleet_.member(online_[i]).CatchUp(kGroup));
        return absl::OkStatus();
      });
    }));
    const size_t agreeing = std::count_if(infos.begin(), infos.end(), [&](const GroupInfo& info) {
      return info.epoch == infos[0].epoch && info.epoch_authenticator == infos[0].epoch_authenticator &&
             info.members == infos[0].members;
    });
    std::printf("  after %s: epoch %llu, %zu of %zu online members agree (epoch_authenticator %s)\n",
                after.c_str(), static_cast<unsigned long long>(infos[0].epoch), agreeing, infos.size(),
                ShortHex(infos[0].epoch_authenticator).c_str());
    if (agreeing != infos.size()) return absl::InternalError(absl::StrCat("members disagree after ", after));
    return absl::OkStatus();
  }

  const Flags& flags_;
  Fleet& fleet_;
  Timeline timeline_;
  std::vector<size_t> waves_[3];
  std::vector<size_t> online_;  // Members online and in the group, in the order they joined.
};

// ---- Setup ----

int PrintTenantKey() {
  absl::StatusOr<art::Ed25519PrivateKey> key = art::Ed25519PrivateKey::Generate();
  if (!key.ok()) {
    std::fprintf(stderr, "sdk_demo: %s\n", key.status().ToString().c_str());
    return 1;
  }
  std::printf("tenant_signing_seed %s\ntenant_public_key %s\n", art::ToHex(key->seed().span()).c_str(),
              art::ToHex(key->public_key()).c_str());
  return 0;
}

absl::Status RunDemo(const Flags& flags) {
  if (flags.members < 8 || flags.online < 4 || flags.online > flags.members - 2) {
    return absl::InvalidArgumentError("need --members >= 8 and 4 <= --online <= members - 2");
  }
  if (flags.updates < 1) return absl::InvalidArgumentError("need --updates >= 1");
  art::Bytes seed;
  if (!art::FromHex(flags.tenant_signing_seed, &seed) || seed.size() != art::kEd25519SeedSize) {
    return absl::InvalidArgumentError("--tenant-signing-seed must be 64 hex digits (see --print-tenant-key)");
  }
  ART_ASSIGN_OR_RETURN(art::Ed25519PrivateKey tenant_key, art::Ed25519PrivateKey::FromSeed(seed));

  // The server may still be starting: wait for the connection, bounded, before the first call.
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(flags.target, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(flags.connect_seconds)))) {
    return absl::UnavailableError(
        absl::StrCat("no artd answered at ", flags.target, " within ", flags.connect_seconds, " s"));
  }
  ClientOptions options;
  // One channel for the whole demo; a real device would have its own.
  options.channel = std::move(channel);
  options.api_key = flags.api_key;
  options.tenant_id = flags.tenant;
  options.trusted_tenant_keys = {tenant_key.public_key()};
  // The group's setup spends one prekey per member and nothing else happens to these members here:
  // a few suffice, and 1,000 registrations stay quick.
  options.one_time_prekeys = 4;
  options.replenish_below = 2;
  Certifier certify = [tenant_key](art::v1::Credential* credential) {
    return art::CertifyCredential(tenant_key, credential);
  };

  std::string root = flags.state_dir;
  const bool temporary = root.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "sdk-demo.XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return absl::InternalError("cannot create a temporary directory");
    root = pattern;
  }
  std::error_code error;
  std::filesystem::create_directories(root, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", root, ": ", error.message()));
  std::printf("member state: %s (one encrypted file store per member)\n", root.c_str());
  ART_ASSIGN_OR_RETURN(art::SecretBytes state_key, art::RandomSecret(32));
  absl::Status result;
  {
    Fleet fleet(std::move(options), std::move(certify), root, std::move(state_key));
    Story story(flags, fleet);
    result = story.Run();
  }
  if (temporary) std::filesystem::remove_all(root);
  return result;
}

int Main(int argc, char** argv) {
  CLI::App app{"artd client SDK demo: a group of members through MemberClient against a running artd"};
  Flags flags;
  bool print_tenant_key = false;
  app.add_flag("--print-tenant-key", print_tenant_key,
               "print a fresh tenant credential key pair (seed, public key) and exit");
  app.add_option("--target", flags.target, "artd address")->capture_default_str();
  // The secrets may come from the environment, out of sight of other users' `ps`.
  app.add_option("--api-key", flags.api_key, "the tenant's API key (artd admin issue-key)")->envname("SDK_DEMO_API_KEY");
  app.add_option("--tenant", flags.tenant, "the tenant id");
  app.add_option("--tenant-signing-seed", flags.tenant_signing_seed,
                 "hex seed of a credential key registered for the tenant (artd admin add-credential-key)")
      ->envname("SDK_DEMO_TENANT_SIGNING_SEED");
  app.add_option("--members", flags.members, "members registered and in the group")->capture_default_str();
  app.add_option("--online", flags.online, "members besides the creator that come online")->capture_default_str();
  app.add_option("--updates", flags.updates, "updates before the race")->capture_default_str();
  app.add_option("--threads", flags.threads, "threads for the members' parallel work")->capture_default_str();
  app.add_option("--state-dir", flags.state_dir, "where members keep their state (default: a temporary directory)");
  app.add_option("--connect-seconds", flags.connect_seconds, "how long to wait for artd")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // Progress lines show as they happen also when the output goes to a pipe or a log.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (print_tenant_key) return PrintTenantKey();
  if (flags.api_key.empty() || flags.tenant.empty()) {
    std::fprintf(stderr, "sdk_demo: --api-key, --tenant and --tenant-signing-seed are required\n");
    return 2;
  }
  const absl::Status status = RunDemo(flags);
  if (!status.ok()) {
    std::fflush(stdout);
    std::fprintf(stderr, "sdk_demo: FAILED: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace artd::client::demo

int main(int argc, char** argv) { return artd::client::demo::Main(argc, argv); }
