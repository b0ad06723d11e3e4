// artd_cli: a command-line member of artd groups, over the client SDK. Each member has its own
// state directory; every invocation opens the member from it, does one thing and exits, so a person
// (or a script) can run a group from a shell. See client/cli/README.md.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "art/base/status_macros.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"
#include "client/cli/member_dir.h"
#include "client/member_client.h"

namespace artd::client::cli {
namespace {

constexpr char kFetchBundleMethod[] = "/art.v1.KeyDirectory/FetchPrekeyBundle";
constexpr char kCreateGroupMethod[] = "/art.v1.Groups/CreateGroup";
// How many bytes of the epoch authenticator `show` prints: enough to compare by eye.
constexpr size_t kShortAuthenticatorBytes = 8;

void Note(const std::string& text) {
  std::fprintf(stderr, "artd_cli: %s\n", text.c_str());
  std::fflush(stderr);
}

// Progress of a group creation, learned from the calls the SDK makes (it has no progress hook of
// its own): one FetchPrekeyBundle per other member, the tree computed locally, then CreateGroup.
class CreateProgress {
 public:
  void Begin(size_t total) { total_ = total; }

  void CallFinished(const std::string& method) {
    if (total_ == 0 || method != kFetchBundleMethod) return;
    const size_t fetched = ++fetched_;
    // About twenty lines however large the group: enough to see it move, not to flood a terminal.
    const size_t step = std::max<size_t>(1, total_ / 20);
    if (fetched % step == 0 || fetched == total_) Note(absl::StrCat("fetching bundles ", fetched, "/", total_));
    if (fetched == total_) Note(absl::StrCat("computing the tree of ", total_ + 1, " members"));
  }

  void CallStarted(const std::string& method) {
    if (total_ != 0 && method == kCreateGroupMethod) Note("submitting the group's setup");
  }

 private:
  size_t total_ = 0;  // 0: not creating a group; no output.
  std::atomic<size_t> fetched_{0};
};

class ProgressInterceptor : public grpc::experimental::Interceptor {
 public:
  ProgressInterceptor(CreateProgress* progress, std::string method) : progress_(progress), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      progress_->CallStarted(method_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      progress_->CallFinished(method_);
    }
    methods->Proceed();
  }

 private:
  CreateProgress* const progress_;
  const std::string method_;
};

class ProgressInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ProgressInterceptorFactory(CreateProgress* progress) : progress_(progress) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo* info) override {
    return new ProgressInterceptor(progress_, info->method());
  }

 private:
  CreateProgress* const progress_;
};

// Everything the subcommands share: the global options and the member they act for.
struct Cli {
  std::string state_dir;
  ServiceSettings service;
  std::string tenant_signing_seed_hex;
  CreateProgress progress;

  // Client options for the service, or an error naming the missing setting.
  absl::StatusOr<ClientOptions> Options() {
    if (service.target.empty()) return absl::InvalidArgumentError("--target (ARTD_TARGET) is required");
    if (service.api_key.empty()) return absl::InvalidArgumentError("--api-key (ARTD_API_KEY) is required");
    if (service.tenant_id.empty()) return absl::InvalidArgumentError("--tenant (ARTD_TENANT) is required");
    if (service.tenant_keys_hex.empty()) {
      // Without a trust anchor the member could not tell a certified colleague from an impostor.
      return absl::InvalidArgumentError("at least one --tenant-key (ARTD_TENANT_KEY) is required");
    }
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(std::make_unique<ProgressInterceptorFactory>(&progress));
    std::shared_ptr<grpc::Channel> channel = grpc::experimental::CreateCustomChannelWithInterceptors(
        service.target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(), std::move(interceptors));
    ART_ASSIGN_OR_RETURN(ClientOptions options, MakeClientOptions(service, std::move(channel)));
    if (const char* point = std::getenv("ARTD_CLI_PAUSE_AT"); point != nullptr) {
      // Testing hook: stop at a named point of a commit until killed, so that a test can kill -9 the
      // process exactly there.
      options.crash_point_for_testing = [point = std::string(point)](std::string_view reached) {
        if (reached != point) return;
        Note(absl::StrCat("paused at ", point));
        for (;;) pause();
      };
    }
    return options;
  }

  absl::StatusOr<MemberDir> Dir() const {
    if (state_dir.empty()) return absl::InvalidArgumentError("--state-dir (ARTD_STATE_DIR) is required");
    return MemberDir(state_dir);
  }

  static std::string StateKeyHex() {
    const char* key = std::getenv("ARTD_STATE_KEY");
    return key != nullptr ? key : "";
  }

  absl::StatusOr<std::unique_ptr<MemberClient>> Open() {
    ART_ASSIGN_OR_RETURN(MemberDir dir, Dir());
    ART_ASSIGN_OR_RETURN(ClientOptions options, Options());
    return dir.Open(std::move(options), StateKeyHex());
  }
};

void PrintSummary(const GroupInfo& info) {
  std::printf("%s: epoch %llu, %zu members\n", info.group_id.c_str(), static_cast<unsigned long long>(info.epoch),
              info.members.size());
}

void PrintDetails(const GroupInfo& info) {
  const size_t shown = std::min(kShortAuthenticatorBytes, info.epoch_authenticator.size());
  std::printf("group %s\nepoch %llu\nauthenticator %s\nsize %zu\nmembers %s\n", info.group_id.c_str(),
              static_cast<unsigned long long>(info.epoch),
              art::ToHex(info.epoch_authenticator.span().subspan(0, shown)).c_str(), info.members.size(),
              absl::StrJoin(info.members, " ").c_str());
}

// Prekey upkeep whenever the member comes online to read: a failure is worth a warning, not the
// command's failure, since what the user asked for was done.
void MaintainPrekeys(MemberClient& member) {
  if (absl::Status maintained = member.MaintainPrekeys(); !maintained.ok()) {
    Note(absl::StrCat("warning: prekey upkeep failed: ", maintained.ToString()));
  }
}

absl::StatusOr<std::vector<std::string>> ReadMembersFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<std::string> members;
  std::string line;
  while (std::getline(in, line)) {
    std::string member(absl::StripAsciiWhitespace(line));
    if (!member.empty() && member[0] != '#') members.push_back(std::move(member));
  }
  return members;
}

absl::Status TenantKeygen() {
  ART_ASSIGN_OR_RETURN(art::Ed25519PrivateKey key, art::Ed25519PrivateKey::Generate());
  std::printf("seed %s\npublic_key %s\n", art::ToHex(key.seed().span()).c_str(), art::ToHex(key.public_key()).c_str());
  return absl::OkStatus();
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "artd_cli: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

int Main(int argc, char** argv) {
  Cli cli;
  CLI::App app{"artd_cli: one member of artd groups, with its state in a directory of its own"};
  app.require_subcommand(1);
  // Global options may also follow the subcommand.
  app.fallthrough();
  app.footer(
      "The state key comes from ARTD_STATE_KEY (64 hex digits) when set, else from the state.key file\n"
      "that register writes (mode 0600) into the state directory. Secrets are best passed in the\n"
      "environment (ARTD_API_KEY, ARTD_TENANT_SIGNING_SEED): command lines are visible to other users.");
  app.add_option("--state-dir", cli.state_dir, "this member's state directory")->envname("ARTD_STATE_DIR");
  app.add_option("--target", cli.service.target, "the artd service, HOST:PORT")->envname("ARTD_TARGET");
  app.add_option("--api-key", cli.service.api_key, "the tenant's API key")->envname("ARTD_API_KEY");
  app.add_option("--tenant", cli.service.tenant_id, "the tenant id")->envname("ARTD_TENANT");
  app.add_option("--tenant-key", cli.service.tenant_keys_hex,
                 "a trusted tenant credential public key, 64 hex digits (may repeat; comma-separated in the "
                 "environment)")
      ->envname("ARTD_TENANT_KEY")
      ->delimiter(',');
  app.add_option("--tenant-signing-seed", cli.tenant_signing_seed_hex,
                 "register only: the tenant credential key's 32-byte seed, hex; stands in for the tenant's "
                 "authentication service, which certifies new members in production")
      ->envname("ARTD_TENANT_SIGNING_SEED");

  std::string member_arg, group, text, members_file;
  std::vector<std::string> members;
  bool no_fetch = false;
  // The subcommand that ran: what it is called in error messages, and what it does.
  std::string what;
  std::function<absl::Status()> run;
  // Adds a subcommand whose |action| acts for the member of the state directory.
  auto member_command = [&](const std::string& name, const std::string& description,
                            std::function<absl::Status(MemberClient&)> action) {
    CLI::App* command = app.add_subcommand(name, description);
    command->callback([&, name, action] {
      what = group.empty() ? name : absl::StrCat(name, " ", group);
      run = [&cli, action]() -> absl::Status {
        ART_ASSIGN_OR_RETURN(std::unique_ptr<MemberClient> member, cli.Open());
        return action(*member);
      };
    });
    return command;
  };
  auto with_group = [&](CLI::App* command) {
    command->add_option("GROUP", group, "the group id")->required();
    return command;
  };
  // A commit whose result is the group's new state.
  using Commit = std::function<absl::StatusOr<GroupInfo>(MemberClient&)>;
  auto commit_command = [&](const std::string& name, const std::string& description, Commit commit) {
    return member_command(name, description, [commit](MemberClient& member) -> absl::Status {
      ART_ASSIGN_OR_RETURN(GroupInfo info, commit(member));
      PrintSummary(info);
      return absl::OkStatus();
    });
  };

  CLI::App* keygen = app.add_subcommand("tenant-keygen", "print a new tenant credential key: its seed and public key");
  keygen->callback([&] {
    what = "tenant-keygen";
    run = TenantKeygen;
  });

  CLI::App* reg = app.add_subcommand("register", "register a new member in --state-dir (needs --tenant-signing-seed)");
  reg->add_option("MEMBER_ID", member_arg, "the new member's id")->required();
  reg->callback([&] {
    what = absl::StrCat("register ", member_arg);
    run = [&]() -> absl::Status {
      if (cli.tenant_signing_seed_hex.empty()) {
        return absl::InvalidArgumentError("register needs --tenant-signing-seed (ARTD_TENANT_SIGNING_SEED)");
      }
      ART_ASSIGN_OR_RETURN(Certifier certify, SeedCertifier(cli.tenant_signing_seed_hex));
      ART_ASSIGN_OR_RETURN(MemberDir dir, cli.Dir());
      ART_ASSIGN_OR_RETURN(ClientOptions options, cli.Options());
      ART_RETURN_IF_ERROR(dir.Register(std::move(options), member_arg, certify, Cli::StateKeyHex()).status());
      std::printf("registered %s\n", member_arg.c_str());
      return absl::OkStatus();
    };
  });

  CLI::App* create = with_group(commit_command(
      "create", "create a group of this member and MEMBER...", [&](MemberClient& member) {
        cli.progress.Begin(members.size());
        return member.CreateGroup(group, members);
      }));
  create->add_option("MEMBER", members, "the other members");
  create->add_option("--members-file", members_file, "more members, one per line (for large groups)");
  with_group(commit_command("join", "join a group whose setup names this member", [&](MemberClient& member) {
    absl::StatusOr<GroupInfo> info = member.JoinGroup(group);
    MaintainPrekeys(member);
    return info;
  }));
  member_command("accept-welcomes", "join every group this member was added to", [&](MemberClient& member) {
    ART_ASSIGN_OR_RETURN(std::vector<GroupInfo> joined, member.AcceptWelcomes());
    for (const GroupInfo& info : joined) PrintSummary(info);
    MaintainPrekeys(member);
    return absl::OkStatus();
  });
  with_group(commit_command("add", "add MEMBER to the group (it joins with accept-welcomes)",
                            [&](MemberClient& member) { return member.Add(group, member_arg); }))
      ->add_option("MEMBER", member_arg, "the member to add")
      ->required();
  with_group(commit_command("remove", "remove MEMBER from the group",
                            [&](MemberClient& member) { return member.Remove(group, member_arg); }))
      ->add_option("MEMBER", member_arg, "the member to remove")
      ->required();
  with_group(commit_command("update", "refresh this member's keys (a new epoch)",
                            [&](MemberClient& member) { return member.Update(group); }));
  with_group(member_command("leave", "ask the other members to remove this one", [&](MemberClient& member) {
    ART_RETURN_IF_ERROR(member.Leave(group));
    std::printf("%s: asked to leave\n", group.c_str());
    return absl::OkStatus();
  }));
  with_group(member_command("send", "encrypt and post TEXT to the group", [&](MemberClient& member) {
    ART_ASSIGN_OR_RETURN(uint64_t sequence, member.Send(group, art::AsBytes(text)));
    std::printf("%s: sent (sequence %llu)\n", group.c_str(), static_cast<unsigned long long>(sequence));
    return absl::OkStatus();
  }))->add_option("TEXT", text, "the message")->required();
  with_group(member_command("receive", "apply new commits and print new messages as \"<sender>: <text>\"",
                            [&](MemberClient& member) {
                              ART_ASSIGN_OR_RETURN(std::vector<ReceivedMessage> received, member.Receive(group));
                              for (const ReceivedMessage& message : received) {
                                const std::string content(message.content.data(),
                                                          message.content.data() + message.content.size());
                                std::printf("%s: %s\n", message.sender_member_id.c_str(), content.c_str());
                              }
                              MaintainPrekeys(member);
                              return absl::OkStatus();
                            }));
  with_group(member_command("show", "print the group's epoch, members and a short epoch authenticator",
                            [&](MemberClient& member) {
                              ART_ASSIGN_OR_RETURN(GroupInfo info,
                                                   no_fetch ? member.Info(group) : member.CatchUp(group));
                              PrintDetails(info);
                              return absl::OkStatus();
                            }))
      ->add_flag("--no-fetch", no_fetch, "show the stored state without applying new commits first");
  member_command("groups", "list this member's groups", [](MemberClient& member) {
    for (const std::string& id : member.GroupIds()) std::printf("%s\n", id.c_str());
    return absl::OkStatus();
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // Help is not an error; every usage error exits 2.
    return app.exit(error) == 0 ? 0 : 2;
  }
  if (!members_file.empty()) {
    absl::StatusOr<std::vector<std::string>> more = ReadMembersFile(members_file);
    if (!more.ok()) return Fail(what, more.status());
    members.insert(members.end(), more->begin(), more->end());
  }
  if (absl::Status status = run(); !status.ok()) return Fail(what, status);
  return 0;
}

}  // namespace
}  // namespace artd::client::cli

int main(int argc, char** argv) { return artd::client::cli::Main(argc, argv); }
