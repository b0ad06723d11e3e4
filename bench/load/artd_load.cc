// artd_load: load for the artd service through its real gRPC API, on loopback only.
//
//   bazel build -c opt //service:artd //bench/load:artd_load
//   bazel-bin/bench/load/artd_load --concurrency 64 --duration-seconds 20 --mode all
//
// By default it starts `artd serve` itself on a temporary SQLite database (--spawn), or
// --replicas N servers on a fresh database of the PostgreSQL server at --database-url, sets up a
// tenant with `artd admin`, creates members and groups through the API (not timed), then measures,
// each for --duration-seconds after a warm-up:
//   floor    the bare gRPC floor: the standard health check, an empty unary call;
//   posts    1 KiB application messages (MemberGroup::Protect, PostMessage);
//   commits  durable update commits (MemberGroup::CreateUpdate, SubmitCommit);
// and prints throughput, p50/p99/p999 latency and each throughput as a share of the floor's.
// The clients' own work (ART cryptography, signing the requests) is done before each measured
// window: every client prepares its requests (--prepared-posts, --prepared-commits), so that the
// figures measure the server, not the load generator sharing its cores. A window ends early when a
// client has used up its prepared requests; the table then says so.
// See bench/README.md ("Service load") for the figures and what they mean.
#include <arpa/inet.h>

#include <algorithm>
#include <functional>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "art/base/status_macros.h"
#include "art/crypto/bytes.h"
#include "bench/load/load_run.h"
#include "bench/load/spawned_artd.h"
#include "bench/load/tenant_connection.h"

namespace artd::load {
namespace {

struct Options {
  std::string target;
  bool spawn = true;
  std::string artd_binary = "bazel-bin/service/artd";
  std::string database;  // With --target: lets the tool register its credential key via `artd admin`.
  std::string database_url;  // With --spawn: a PostgreSQL server to create the run's database on.
  int replicas = 1;          // With --spawn: `artd serve` processes sharing the database.
  std::string tenant = "load";
  std::string api_key;
  int concurrency = 64;
  // Per server. Four connections gave the highest floor on the 2-core machine (bench/README.md):
  // fewer serialize on one connection's reader, more cost the client and server CPU in polling.
  int channels = 4;
  int groups = 0;    // 0: one per client.
  int members_per_group = 2;
  size_t prepared_posts = 4000;    // Per client.
  size_t prepared_commits = 2000;  // Per client.
  std::string mode = "all";
  double duration_seconds = 20;
  double warmup_seconds = 1;
  uint64_t max_operations = 1000000;
  size_t message_bytes = 1024;
  bool json = false;
};

// The tool generates load; pointing it at someone else's server would be an attack, so only
// loopback addresses are accepted.
absl::Status RequireLoopback(const std::string& target) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("--target must be HOST:PORT");
  std::string host = target.substr(0, colon);
  int port = 0;
  if (!absl::SimpleAtoi(target.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--target ", target, " has no valid port"));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  in_addr v4;
  in6_addr v6;
  const bool loopback = host == "localhost" ||
                        (inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
                        (inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));
  if (!loopback) {
    return absl::InvalidArgumentError(
        absl::StrCat("--target ", target, " is not a loopback address; artd_load only loads a local artd"));
  }
  return absl::OkStatus();
}

// Runs |work|(worker, item) for items 0..|items|-1 on |workers| threads, worker w taking items w,
// w + workers, ...; a worker stops at its first error, which is returned (the first worker's first).
absl::Status InParallel(size_t items, size_t workers, const std::function<absl::Status(size_t, size_t)>& work) {
  std::vector<absl::Status> results(workers);
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (size_t item = w; item < items && results[w].ok(); item += workers) results[w] = work(w, item);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& result : results) ART_RETURN_IF_ERROR(result);
  return absl::OkStatus();
}

// A member of a group, as held by the one client that plays it.
struct Seat {
  int group = 0;
  std::unique_ptr<TestMember> member;
  std::optional<art::MemberGroup> state;
};

// Members and groups made through the API before any measurement.
class Population {
 public:
  Population(art::testing::TestTenant* authority, int groups, int members_per_group)
      : authority_(authority), members_per_group_(members_per_group), seats_(groups) {
    for (std::vector<Seat>& group : seats_) group.resize(members_per_group);
  }

  // Sets every group up, |connections| working on different groups in parallel.
  absl::Status Create(const std::vector<std::unique_ptr<TenantConnection>>& connections, const std::string& run_id) {
    return InParallel(seats_.size(), std::min(connections.size(), seats_.size()), [&](size_t w, size_t g) {
      return CreateGroup(*connections[w], static_cast<int>(g), absl::StrCat("load-", run_id, "-g", g));
    });
  }

  // Client |client| of |clients| plays every member of group g when g % clients == client: each
  // client owns whole groups, so its prepared chains of commits never race another client's.
  std::vector<Seat*> SeatsOf(int client, int clients) {
    std::vector<Seat*> seats;
    for (size_t g = client; g < seats_.size(); g += clients) {
      for (Seat& seat : seats_[g]) seats.push_back(&seat);
    }
    return seats;
  }

 private:
  absl::Status CreateGroup(TenantConnection& connection, int g, const std::string& group_id) {
    std::vector<Seat>& seats = seats_[g];
    std::vector<v1::PrekeyBundle> bundles;
    for (int m = 0; m < members_per_group_; ++m) {
      {
        // TestTenant keeps a map of the credentials it issued.
        std::lock_guard<std::mutex> lock(authority_mutex_);
        seats[m].member = authority_->NewMember(absl::StrCat(group_id, "-m", m), 1);
      }
      seats[m].group = g;
      ART_RETURN_IF_ERROR(connection.Publish(*seats[m].member));
      if (m > 0) {
        ART_ASSIGN_OR_RETURN(v1::PrekeyBundle bundle, connection.FetchBundle(seats[m].member->member_id()));
        bundles.push_back(std::move(bundle));
      }
    }
    ART_ASSIGN_OR_RETURN(art::MemberGroup::Created created,
                         art::MemberGroup::Create(authority_->config(), seats[0].member->identity, group_id, bundles));
    ART_RETURN_IF_ERROR(connection.CreateGroup(created.setup));
    seats[0].state = std::move(created.group);
    if (members_per_group_ == 1) return absl::OkStatus();
    ART_ASSIGN_OR_RETURN(v1::Setup setup, connection.GetSetup(group_id));
    for (int m = 1; m < members_per_group_; ++m) {
      ART_ASSIGN_OR_RETURN(seats[m].state, art::MemberGroup::JoinFromSetup(authority_->config(), seats[m].member->identity,
                                                                          &seats[m].member->prekeys, setup));
    }
    return absl::OkStatus();
  }

  art::testing::TestTenant* authority_;
  std::mutex authority_mutex_;
  int members_per_group_;
  std::vector<std::vector<Seat>> seats_;  // [group][member]; member 0 created the group.
};

// One client thread's work: its connection, the members it plays, and its prepared requests.
class Client {
 public:
  Client(TenantConnection* connection, std::vector<Seat*> seats)
      : connection_(connection), seats_(std::move(seats)) {}

  // Builds |count| signed posts of |payload|, the client's members taking turns.
  absl::Status PreparePosts(size_t count, const art::Bytes& payload) {
    posts_.clear();
    posts_.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      Seat& seat = *seats_[i % seats_.size()];
      ART_ASSIGN_OR_RETURN(v1::ApplicationMessage message, seat.state->Protect(1, payload));
      ART_ASSIGN_OR_RETURN(v1::PostMessageRequest request, connection_->PostRequest(*seat.member, message));
      posts_.push_back(std::move(request));
    }
    next_post_ = 0;
    return absl::OkStatus();
  }

  // Builds |count| update commits: in each of the client's groups its first member commits epoch
  // after epoch, the groups taking turns. Submitted in order, each commit finds its epoch current.
  // The other members are left behind, so commits are the last mode measured.
  absl::Status PrepareCommits(size_t count) {
    std::vector<Seat*> committers;
    for (Seat* seat : seats_) {
      if (committers.empty() || committers.back()->group != seat->group) committers.push_back(seat);
    }
    commits_.clear();
    commits_.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      Seat& seat = *committers[i % committers.size()];
      ART_ASSIGN_OR_RETURN(art::PendingCommit pending, seat.state->CreateUpdate());
      commits_.push_back(TenantConnection::CommitRequest(pending));
      seat.state->ApplyPendingCommit(std::move(pending));
    }
    next_commit_ = 0;
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<absl::Duration>> Floor() {
    absl::Duration latency;
    ART_RETURN_IF_ERROR(ToStatus(connection_->HealthCheck(&latency)));
    return latency;
  }

  absl::StatusOr<std::optional<absl::Duration>> Commit() {
    if (next_commit_ == commits_.size()) return absl::OutOfRangeError("prepared commits used up");
    absl::Duration latency;
    ART_RETURN_IF_ERROR(ToStatus(connection_->SubmitCommit(commits_[next_commit_++], &latency)));
    return latency;
  }

  absl::StatusOr<std::optional<absl::Duration>> Post() {
    if (next_post_ == posts_.size()) return absl::OutOfRangeError("prepared posts used up");
    absl::Duration latency;
    ART_RETURN_IF_ERROR(ToStatus(connection_->PostMessage(posts_[next_post_++], &latency)));
    return latency;
  }

 private:
  TenantConnection* connection_;
  std::vector<Seat*> seats_;
  std::vector<v1::PostMessageRequest> posts_;
  size_t next_post_ = 0;
  std::vector<v1::SubmitCommitRequest> commits_;
  size_t next_commit_ = 0;
};

// Runs |prepare| for every client, in parallel (all cores: it is not measured).
absl::Status PrepareAll(std::vector<Client>& clients, const std::string& what,
                        const std::function<absl::Status(Client&)>& prepare) {
  const absl::Time start = absl::Now();
  ART_RETURN_IF_ERROR(InParallel(clients.size(), std::max(1u, std::thread::hardware_concurrency()),
                                 [&](size_t, size_t c) { return prepare(clients[c]); }));
  std::fprintf(stderr, "artd_load: prepared %s in %.1f s\n", what.c_str(), absl::ToDoubleSeconds(absl::Now() - start));
  return absl::OkStatus();
}

absl::Status CheckOptions(Options& options, bool target_given, bool spawn_given) {
  if (target_given && spawn_given && options.spawn) {
    return absl::InvalidArgumentError("--target names a running artd; it cannot be combined with --spawn");
  }
  if (target_given) options.spawn = false;
  if (!options.spawn) {
    if (options.target.empty()) return absl::InvalidArgumentError("--no-spawn needs --target");
    ART_RETURN_IF_ERROR(RequireLoopback(options.target));
    if (options.api_key.empty()) return absl::InvalidArgumentError("--target needs --api-key (artd admin issue-key)");
    if (!options.database_url.empty() || options.replicas != 1) {
      return absl::InvalidArgumentError("--database-url and --replicas are for spawned servers, not --target");
    }
  }
  if (options.concurrency < 1) return absl::InvalidArgumentError("--concurrency must be at least 1");
  // The clients are spread over the replicas, so each replica serves at most this many.
  const int clients_per_server = (options.concurrency + options.replicas - 1) / std::max(options.replicas, 1);
  if (options.channels == 0) options.channels = clients_per_server;
  options.channels = std::min(options.channels, clients_per_server);
  if (options.groups == 0) options.groups = options.concurrency;
  if (options.channels < 1 || options.groups < 1 || options.members_per_group < 1) {
    return absl::InvalidArgumentError("--channels, --groups and --members-per-group must be positive");
  }
  if (options.mode != "floor" && options.groups < options.concurrency) {
    return absl::InvalidArgumentError("--groups must be at least --concurrency (every client plays whole groups)");
  }
  if (options.prepared_posts == 0 || options.prepared_commits == 0) {
    return absl::InvalidArgumentError("--prepared-posts and --prepared-commits must be positive");
  }
  if (options.duration_seconds <= 0 || options.warmup_seconds < 0 || options.max_operations == 0) {
    return absl::InvalidArgumentError("--duration-seconds and --max-operations must be positive");
  }
  return absl::OkStatus();
}

absl::Status Run(Options options) {
  art::testing::TestTenant authority(options.tenant);
  const art::Ed25519PublicKey& credential_key = authority.credential_key().public_key();
  const std::string credential_key_hex = art::ToHex(credential_key);
  std::unique_ptr<SpawnedArtd> server;
  std::vector<std::string> targets = {options.target};
  if (options.spawn) {
    ART_ASSIGN_OR_RETURN(server, SpawnedArtd::Start(options.artd_binary, options.tenant, credential_key_hex,
                                                    options.database_url, options.replicas));
    targets = server->targets();
    options.api_key = server->api_key();
  } else if (!options.database.empty()) {
    ART_RETURN_IF_ERROR(RunAdmin(options.artd_binary, options.database,
                                 {"add-credential-key", "--tenant", options.tenant, "--public-key", credential_key_hex})
                            .status());
  } else {
    std::fprintf(stderr,
                 "artd_load: if tenant %s trusts credential keys, register this run's first "
                 "(or pass --database): artd admin add-credential-key --tenant %s --public-key %s\n",
                 options.tenant.c_str(), options.tenant.c_str(), credential_key_hex.c_str());
  }

  // channels[server][c]: every server gets its own connections.
  std::vector<std::vector<std::shared_ptr<grpc::Channel>>> channels(targets.size());
  for (size_t s = 0; s < targets.size(); ++s) {
    for (int c = 0; c < options.channels; ++c) {
      channels[s].push_back(NewChannel(targets[s]));
      if (!channels[s].back()->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
        return absl::UnavailableError(absl::StrCat("cannot connect to ", targets[s]));
      }
    }
  }
  // Client i talks to server i mod servers (round-robin, for the floor as for the rest), and within
  // it takes that server's channels in turn. Setup uses the same connections, so it is spread too.
  std::vector<std::unique_ptr<TenantConnection>> connections;
  for (int i = 0; i < options.concurrency; ++i) {
    const std::vector<std::shared_ptr<grpc::Channel>>& own = channels[i % channels.size()];
    connections.push_back(std::make_unique<TenantConnection>(own[(i / channels.size()) % own.size()], options.tenant,
                                                             options.api_key));
  }

  const bool all = options.mode == "all";
  const bool commits = all || options.mode == "commits";
  const bool posts = all || options.mode == "posts";
  Population population(&authority, options.groups, options.members_per_group);
  if (commits || posts) {
    // Names unique to this run, so that a long-running --target artd can be loaded again.
    const std::string run_id = absl::StrCat(absl::Hex(absl::ToUnixMicros(absl::Now()) & 0xffffffffff));
    const absl::Time start = absl::Now();
    ART_RETURN_IF_ERROR(population.Create(connections, run_id));
    std::fprintf(stderr, "artd_load: set up %d groups of %d members in %.1f s\n", options.groups,
                 options.members_per_group, absl::ToDoubleSeconds(absl::Now() - start));
  }
  const art::Bytes payload(options.message_bytes, 0x5a);
  std::vector<Client> clients;
  for (int i = 0; i < options.concurrency; ++i) {
    clients.emplace_back(connections[i].get(), population.SeatsOf(i, options.concurrency));
  }

  RunLimits limits{absl::Seconds(options.warmup_seconds), absl::Seconds(options.duration_seconds),
                   options.max_operations, server != nullptr ? server->pids() : std::vector<pid_t>()};
  std::vector<ModeResult> results;
  // The floor is measured in every run, first, so that every ratio compares figures of one run.
  using Operation = absl::StatusOr<std::optional<absl::Duration>> (Client::*)();
  std::vector<std::pair<std::string, Operation>> modes = {{"floor", &Client::Floor}};
  if (posts) modes.emplace_back("posts", &Client::Post);
  if (commits) modes.emplace_back("commits", &Client::Commit);  // Last: it leaves members behind.
  for (const auto& [mode, operation] : modes) {
    if (mode == "posts") {
      ART_RETURN_IF_ERROR(PrepareAll(clients, absl::StrCat(options.prepared_posts, " posts per client"),
                                     [&](Client& client) { return client.PreparePosts(options.prepared_posts, payload); }));
    } else if (mode == "commits") {
      ART_RETURN_IF_ERROR(PrepareAll(clients, absl::StrCat(options.prepared_commits, " commits per client"),
                                     [&](Client& client) { return client.PrepareCommits(options.prepared_commits); }));
    }
    std::vector<Step> steps;
    for (Client& client : clients) steps.push_back([&client, operation = operation] { return (client.*operation)(); });
    std::fprintf(stderr, "artd_load: %s: %.1f s warm-up, then %.1f s with %d clients\n", mode.c_str(),
                 options.warmup_seconds, options.duration_seconds, options.concurrency);
    ART_ASSIGN_OR_RETURN(ModeResult result, RunClients(mode, std::move(steps), limits));
    results.push_back(std::move(result));
  }

  const RunDescription run{absl::StrJoin(targets, ","), options.concurrency,
                           options.channels * static_cast<int>(targets.size()), options.groups,
                           options.members_per_group, options.duration_seconds};
  const std::string table = FormatTable(run, results);
  // With --json, stdout is for the machine; the table still goes to the person watching.
  std::fputs(table.c_str(), options.json ? stderr : stdout);
  if (options.json) std::fputs(FormatJson(run, results).c_str(), stdout);
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  CLI::App app{"artd_load: loopback load for artd (floor, durable commits, message posts)"};
  Options options;
  CLI::Option* target = app.add_option("--target", options.target, "a running artd, HOST:PORT on loopback");
  CLI::Option* spawn = app.add_flag("--spawn,!--no-spawn", options.spawn,
                                    "start `artd serve` on a temporary database (default unless --target)");
  app.add_option("--artd-binary", options.artd_binary, "the artd binary for --spawn")->capture_default_str();
  app.add_option("--database", options.database, "with --target: its database, to register the credential key");
  app.add_option("--database-url", options.database_url,
                 "with --spawn: a PostgreSQL server (postgres://...) on which to create the run's database "
                 "(dropped at the end) instead of a temporary SQLite file");
  app.add_option("--replicas", options.replicas, "with --spawn: `artd serve` processes on the one database "
                 "(needs --database-url); the clients are spread over them round-robin")
      ->capture_default_str();
  app.add_option("--tenant", options.tenant, "tenant id")->capture_default_str();
  app.add_option("--api-key", options.api_key, "with --target: the tenant's API key");
  app.add_option("--concurrency", options.concurrency, "concurrent clients (threads)")->capture_default_str();
  app.add_option("--channels", options.channels, "gRPC channels (TCP connections) per server, shared round-robin by its clients; 0: one per client")
      ->capture_default_str();
  app.add_option("--groups", options.groups, "groups; 0: one per client")->capture_default_str();
  app.add_option("--members-per-group", options.members_per_group)->capture_default_str();
  app.add_option("--prepared-posts", options.prepared_posts,
                 "posts each client builds and signs before the posts window (which ends when one client runs out)")
      ->capture_default_str();
  app.add_option("--prepared-commits", options.prepared_commits,
                 "commits each client builds before the commits window (which ends when one client runs out)")
      ->capture_default_str();
  app.add_option("--mode", options.mode, "what to measure (the floor is always measured)")
      ->check(CLI::IsMember({"floor", "commits", "posts", "all"}))
      ->capture_default_str();
  app.add_option("--duration-seconds", options.duration_seconds, "measured time per mode")->capture_default_str();
  app.add_option("--warmup-seconds", options.warmup_seconds, "unmeasured time before each mode")->capture_default_str();
  app.add_option("--max-operations", options.max_operations, "at most this many operations per mode")
      ->capture_default_str();
  app.add_option("--message-bytes", options.message_bytes, "posts: plaintext size")->capture_default_str();
  app.add_flag("--json", options.json, "print JSON on stdout (the table goes to stderr)");
  CLI11_PARSE(app, argc, argv);

  absl::Status status = CheckOptions(options, target->count() > 0, spawn->count() > 0);
  if (status.ok()) status = Run(std::move(options));
  if (!status.ok()) {
    std::fprintf(stderr, "artd_load: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace artd::load

int main(int argc, char** argv) { return artd::load::Main(argc, argv); }
