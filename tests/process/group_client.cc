#include "tests/process/group_client.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"

namespace artd::testing {
namespace {

using art::testing::TestMember;

// One unary call with the tenant's API key and the deadline.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Call(const TenantClient& client, Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                              const Request& request) {
  Response response;
  ART_RETURN_IF_ERROR(FromGrpc((stub.*method)(CallContext(client).get(), request, &response)));
  return response;
}

// Fills in |request|'s MemberAuth: |member| speaks for it.
template <typename Request>
void SignAs(const TenantClient& client, const TestMember& member, std::string_view method, Request& request) {
  *request.mutable_auth() = client.Sign(member, method, art::RequestDigest(request));
}

// |creator| creates |group_id| with the members of |bundles|; returns its state.
absl::StatusOr<art::MemberGroup> CreateGroup(const TenantClient& client, const TestMember& creator,
                                             const std::string& group_id,
                                             const std::vector<v1::PrekeyBundle>& bundles) {
  ART_ASSIGN_OR_RETURN(art::MemberGroup::Created created,
                       art::MemberGroup::Create(client.authority->config(), creator.identity, group_id, bundles));
  v1::CreateGroupRequest request;
  *request.mutable_setup() = created.setup;
  SignAs(client, creator, art::kCreateGroupMethod, request);
  ART_RETURN_IF_ERROR(Call(client, *client.groups, &v1::Groups::Stub::CreateGroup, request).status());
  return std::move(created.group);
}

absl::StatusOr<art::MemberGroup> JoinFromSetup(const TenantClient& client, TestMember& member,
                                               const std::string& group_id) {
  v1::GetSetupRequest request;
  request.set_group_id(group_id);
  ART_ASSIGN_OR_RETURN(v1::GetSetupResponse response,
                       Call(client, *client.groups, &v1::Groups::Stub::GetSetup, request));
  return art::MemberGroup::JoinFromSetup(client.authority->config(), member.identity, &member.prekeys,
                                         response.setup());
}

}  // namespace

std::unique_ptr<grpc::ClientContext> CallContext(const TenantClient& client) {
  std::unique_ptr<grpc::ClientContext> context = client.Context();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  return context;
}

absl::StatusOr<std::unique_ptr<TestMember>> NewMember(const TenantClient& client, const std::string& member_id,
                                                      int one_time_prekeys) {
  std::unique_ptr<TestMember> member = client.authority->NewMember(member_id, one_time_prekeys);
  v1::PublishIdentityRequest publish;
  *publish.mutable_credential() = member->identity.credential;
  SignAs(client, *member, art::kPublishIdentityMethod, publish);
  ART_RETURN_IF_ERROR(Call(client, *client.keys, &v1::KeyDirectory::Stub::PublishIdentity, publish).status());
  v1::UploadPrekeysRequest upload;
  upload.set_member_id(member_id);
  *upload.mutable_signed_prekey() = member->signed_prekey;
  upload.mutable_one_time_prekeys()->Add(member->one_time_prekeys.begin(), member->one_time_prekeys.end());
  SignAs(client, *member, art::kUploadPrekeysMethod, upload);
  ART_RETURN_IF_ERROR(Call(client, *client.keys, &v1::KeyDirectory::Stub::UploadPrekeys, upload).status());
  member->one_time_prekeys.clear();  // The service holds them now.
  return member;
}

std::unique_ptr<TenantClient> ConnectTenant(const ProvisionedTenant& tenant, std::shared_ptr<grpc::Channel> channel) {
  auto client = std::make_unique<TenantClient>();
  client->tenant_id = tenant.tenant_id;
  client->api_key = tenant.api_key;
  client->authority = std::make_unique<art::testing::TestTenant>(tenant.authority);
  client->keys = v1::KeyDirectory::NewStub(channel);
  client->groups = v1::Groups::NewStub(channel);
  client->mailbox = v1::Mailbox::NewStub(channel);
  client->state = v1::StateBlobs::NewStub(channel);
  return client;
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::string GroupIdOf(const art::MemberGroup& group) {
  const auto& id = group.public_group().group_id();
  return std::string(id.begin(), id.end());
}

absl::StatusOr<v1::PrekeyBundle> FetchPrekeyBundle(const TenantClient& client, const std::string& member_id) {
  v1::FetchPrekeyBundleRequest request;
  request.set_member_id(member_id);
  ART_ASSIGN_OR_RETURN(v1::FetchPrekeyBundleResponse response,
                       Call(client, *client.keys, &v1::KeyDirectory::Stub::FetchPrekeyBundle, request));
  return response.bundle();
}

absl::Status TakeOneTimePrekey(const TenantClient& client, const std::string& member_id) {
  ART_ASSIGN_OR_RETURN(v1::PrekeyBundle bundle, FetchPrekeyBundle(client, member_id));
  if (!bundle.has_one_time_prekey()) {
    return absl::DataLossError(absl::StrCat(member_id, "'s bundle has no one-time prekey left"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Seat>> NewSeats(const std::vector<TenantClient*>& clients,
                                           const std::vector<std::string>& member_ids) {
  std::vector<Seat> seats;
  for (size_t i = 0; i < member_ids.size(); ++i) {
    ART_ASSIGN_OR_RETURN(std::unique_ptr<TestMember> device, NewMember(*clients[i % clients.size()], member_ids[i]));
    seats.push_back(Seat{std::move(device), std::nullopt});
  }
  return seats;
}

absl::Status FormGroup(const std::vector<TenantClient*>& clients, std::vector<Seat>& seats,
                       const std::string& group_id) {
  auto client_of = [&](size_t seat) -> const TenantClient& { return *clients[seat % clients.size()]; };
  std::vector<v1::PrekeyBundle> bundles;
  for (size_t i = 1; i < seats.size(); ++i) {
    ART_ASSIGN_OR_RETURN(v1::PrekeyBundle bundle, FetchPrekeyBundle(client_of(i), seats[i].member_id()));
    bundles.push_back(std::move(bundle));
  }
  ART_ASSIGN_OR_RETURN(seats[0].group, CreateGroup(client_of(0), *seats[0].device, group_id, bundles));
  for (size_t i = 1; i < seats.size(); ++i) {
    ART_ASSIGN_OR_RETURN(seats[i].group, JoinFromSetup(client_of(i), *seats[i].device, group_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Seat>> CreateGroupOf(const std::vector<TenantClient*>& clients,
                                                const std::vector<std::string>& member_ids,
                                                const std::string& group_id) {
  ART_ASSIGN_OR_RETURN(std::vector<Seat> seats, NewSeats(clients, member_ids));
  ART_RETURN_IF_ERROR(FormGroup(clients, seats, group_id));
  return seats;
}

absl::StatusOr<uint64_t> SubmitCommit(const TenantClient& client, const TestMember& signer,
                                      const art::PendingCommit& pending) {
  v1::SubmitCommitRequest request;
  *request.mutable_commit() = pending.commit;
  if (pending.welcome.has_value()) *request.mutable_welcome() = *pending.welcome;
  SignAs(client, signer, art::kSubmitCommitMethod, request);
  ART_ASSIGN_OR_RETURN(v1::SubmitCommitResponse response,
                       Call(client, *client.groups, &v1::Groups::Stub::SubmitCommit, request));
  return response.epoch();
}

absl::StatusOr<uint64_t> CommitUpdate(const TenantClient& client, Seat& seat) {
  ART_ASSIGN_OR_RETURN(art::PendingCommit pending, seat.state().CreateUpdate());
  ART_ASSIGN_OR_RETURN(uint64_t epoch, SubmitCommit(client, *seat.device, pending));
  seat.state().ApplyPendingCommit(std::move(pending));
  return epoch;
}

absl::StatusOr<std::vector<v1::Commit>> ListCommits(const TenantClient& client, const std::string& group_id,
                                                    uint64_t after_epoch) {
  std::vector<v1::Commit> commits;
  for (;;) {
    v1::ListCommitsRequest request;
    request.set_group_id(group_id);
    request.set_after_epoch(after_epoch);
    ART_ASSIGN_OR_RETURN(v1::ListCommitsResponse page,
                         Call(client, *client.groups, &v1::Groups::Stub::ListCommits, request));
    for (const v1::Commit& commit : page.commits()) {
      commits.push_back(commit);
      after_epoch = commit.epoch() + 1;  // A commit made in epoch e creates epoch e + 1.
    }
    if (page.commits().empty() || after_epoch >= page.current_epoch()) return commits;
  }
}

absl::Status CatchUp(const TenantClient& client, art::MemberGroup& group) {
  ART_ASSIGN_OR_RETURN(std::vector<v1::Commit> commits, ListCommits(client, GroupIdOf(group), group.epoch()));
  for (const v1::Commit& commit : commits) {
    absl::Status processed = group.ProcessCommit(commit);
    if (!processed.ok()) {
      return absl::Status(processed.code(), absl::StrCat("processing the commit from epoch ", commit.epoch(),
                                                         " at leaf ", group.own_leaf(), ": ", processed.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> PostMessage(const TenantClient& client, const TestMember& sender,
                                     const v1::ApplicationMessage& message) {
  v1::PostMessageRequest request;
  *request.mutable_message() = message;
  SignAs(client, sender, art::kPostMessageMethod, request);
  ART_ASSIGN_OR_RETURN(v1::PostMessageResponse response,
                       Call(client, *client.mailbox, &v1::Mailbox::Stub::PostMessage, request));
  return response.sequence();
}

absl::StatusOr<std::vector<v1::StoredMessage>> FetchAllMessages(const TenantClient& client,
                                                                const std::string& group_id) {
  std::vector<v1::StoredMessage> messages;
  for (;;) {
    v1::FetchMessagesRequest request;
    request.set_group_id(group_id);
    request.set_after_sequence(messages.empty() ? 0 : messages.back().sequence());
    ART_ASSIGN_OR_RETURN(v1::FetchMessagesResponse page,
                         Call(client, *client.mailbox, &v1::Mailbox::Stub::FetchMessages, request));
    if (page.messages().empty()) return messages;
    messages.insert(messages.end(), page.messages().begin(), page.messages().end());
  }
}

absl::StatusOr<art::MemberGroup> JoinFromWelcome(const TenantClient& client, TestMember& member) {
  v1::FetchWelcomesRequest fetch;
  fetch.set_member_id(member.member_id());
  SignAs(client, member, art::kFetchWelcomesMethod, fetch);
  ART_ASSIGN_OR_RETURN(v1::FetchWelcomesResponse fetched,
                       Call(client, *client.mailbox, &v1::Mailbox::Stub::FetchWelcomes, fetch));
  if (fetched.welcomes().empty()) return absl::NotFoundError(absl::StrCat(member.member_id(), " has no Welcome"));
  const v1::PendingWelcome& pending = fetched.welcomes(0);
  ART_ASSIGN_OR_RETURN(art::MemberGroup group,
                       art::MemberGroup::JoinFromWelcome(client.authority->config(), member.identity,
                                                         &member.prekeys, pending.welcome(), pending.commit(),
                                                         pending.state_after()));
  v1::AckWelcomeRequest ack;
  ack.set_member_id(member.member_id());
  ack.set_welcome_id(pending.welcome_id());
  SignAs(client, member, art::kAckWelcomeMethod, ack);
  ART_RETURN_IF_ERROR(Call(client, *client.mailbox, &v1::Mailbox::Stub::AckWelcome, ack).status());
  return group;
}

absl::StatusOr<uint64_t> PutState(const TenantClient& client, const TestMember& member, const std::string& name,
                                  uint64_t expected_version, const std::string& ciphertext) {
  v1::PutStateRequest request;
  request.set_member_id(member.member_id());
  request.set_name(name);
  request.set_expected_version(expected_version);
  request.set_ciphertext(ciphertext);
  SignAs(client, member, art::kPutStateMethod, request);
  ART_ASSIGN_OR_RETURN(v1::PutStateResponse response,
                       Call(client, *client.state, &v1::StateBlobs::Stub::PutState, request));
  return response.version();
}

}  // namespace artd::testing
