#include "bench/load/tenant_connection.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/requests/request_signature.h"

namespace artd::load {

absl::Status ToStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
}

TenantConnection::TenantConnection(std::shared_ptr<grpc::Channel> channel, std::string tenant_id,
                                   std::string api_key)
    : tenant_id_(std::move(tenant_id)),
      api_key_(std::move(api_key)),
      keys_(v1::KeyDirectory::NewStub(channel)),
      groups_(v1::Groups::NewStub(channel)),
      mailbox_(v1::Mailbox::NewStub(channel)),
      health_(grpc::health::v1::Health::NewStub(channel)) {}

std::unique_ptr<grpc::ClientContext> TenantConnection::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + api_key_);
  return context;
}

absl::StatusOr<v1::MemberAuth> TenantConnection::Sign(const TestMember& member, std::string_view method,
                                                      const art::Sha256Digest& digest) const {
  return art::SignRequest(member.identity.signing_key, tenant_id_, method, member.member_id(), digest,
                          static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())));
}

template <typename Stub, typename Request, typename Response>
grpc::Status TenantConnection::SignedCall(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                                       Response*),
                                          Stub& stub, const TestMember& member, std::string_view method_name,
                                          Request& request, Response* response, absl::Duration* latency) {
  absl::StatusOr<v1::MemberAuth> auth = Sign(member, method_name, art::RequestDigest(request));
  if (!auth.ok()) {
    return grpc::Status(static_cast<grpc::StatusCode>(auth.status().code()), std::string(auth.status().message()));
  }
  *request.mutable_auth() = *std::move(auth);
  return TimedCall(method, stub, request, response, latency);
}

template <typename Stub, typename Request, typename Response>
grpc::Status TenantConnection::TimedCall(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                                      Response*),
                                         Stub& stub, const Request& request, Response* response,
                                         absl::Duration* latency) {
  std::unique_ptr<grpc::ClientContext> context = Context();
  const absl::Time start = absl::Now();
  grpc::Status status = (stub.*method)(context.get(), request, response);
  if (latency != nullptr) *latency = absl::Now() - start;
  return status;
}

absl::Status TenantConnection::Publish(TestMember& member) {
  v1::PublishIdentityRequest publish;
  *publish.mutable_credential() = member.identity.credential;
  v1::PublishIdentityResponse published;
  ART_RETURN_IF_ERROR(ToStatus(SignedCall(&v1::KeyDirectory::Stub::PublishIdentity, *keys_, member,
                                          art::kPublishIdentityMethod, publish, &published, nullptr)));
  v1::UploadPrekeysRequest upload;
  upload.set_member_id(member.member_id());
  *upload.mutable_signed_prekey() = member.signed_prekey;
  for (const v1::OneTimePrekey& prekey : member.one_time_prekeys) *upload.add_one_time_prekeys() = prekey;
  v1::UploadPrekeysResponse uploaded;
  ART_RETURN_IF_ERROR(ToStatus(SignedCall(&v1::KeyDirectory::Stub::UploadPrekeys, *keys_, member,
                                          art::kUploadPrekeysMethod, upload, &uploaded, nullptr)));
  member.one_time_prekeys.clear();  // Now held by the service.
  return absl::OkStatus();
}

absl::StatusOr<v1::PrekeyBundle> TenantConnection::FetchBundle(const std::string& member_id) {
  v1::FetchPrekeyBundleRequest request;
  request.set_member_id(member_id);
  v1::FetchPrekeyBundleResponse response;
  ART_RETURN_IF_ERROR(ToStatus(keys_->FetchPrekeyBundle(Context().get(), request, &response)));
  return response.bundle();
}

absl::Status TenantConnection::CreateGroup(const v1::Setup& setup) {
  v1::CreateGroupRequest request;
  *request.mutable_setup() = setup;
  v1::CreateGroupResponse response;
  // A Setup and a commit are signed by their member and need no MemberAuth (docs/api.md).
  return ToStatus(TimedCall(&v1::Groups::Stub::CreateGroup, *groups_, request, &response, nullptr));
}

absl::StatusOr<v1::Setup> TenantConnection::GetSetup(const std::string& group_id) {
  v1::GetSetupRequest request;
  request.set_group_id(group_id);
  v1::GetSetupResponse response;
  ART_RETURN_IF_ERROR(ToStatus(groups_->GetSetup(Context().get(), request, &response)));
  return response.setup();
}

absl::Status TenantConnection::CatchUp(art::MemberGroup& group) {
  const art::Bytes& group_id = group.public_group().group_id();
  v1::ListCommitsRequest request;
  request.set_group_id(std::string(group_id.begin(), group_id.end()));
  request.set_after_epoch(group.epoch());
  v1::ListCommitsResponse response;
  ART_RETURN_IF_ERROR(ToStatus(groups_->ListCommits(Context().get(), request, &response)));
  if (response.commits().empty()) {
    // Nothing newer: whatever refused our request was not a stale epoch, so retrying cannot help.
    return absl::FailedPreconditionError(absl::StrCat("catching up from epoch ", group.epoch(),
                                                      " found no newer commit (current epoch ",
                                                      response.current_epoch(), ")"));
  }
  for (const v1::Commit& commit : response.commits()) ART_RETURN_IF_ERROR(group.ProcessCommit(commit));
  return absl::OkStatus();
}

v1::SubmitCommitRequest TenantConnection::CommitRequest(const art::PendingCommit& pending) {
  v1::SubmitCommitRequest request;
  *request.mutable_commit() = pending.commit;
  if (pending.welcome.has_value()) *request.mutable_welcome() = *pending.welcome;
  return request;
}

absl::StatusOr<v1::PostMessageRequest> TenantConnection::PostRequest(const TestMember& sender,
                                                                     const v1::ApplicationMessage& message) const {
  v1::PostMessageRequest request;
  *request.mutable_message() = message;
  ART_ASSIGN_OR_RETURN(*request.mutable_auth(), Sign(sender, art::kPostMessageMethod, art::RequestDigest(request)));
  return request;
}

grpc::Status TenantConnection::SubmitCommit(const v1::SubmitCommitRequest& request, absl::Duration* latency) {
  v1::SubmitCommitResponse response;
  return TimedCall(&v1::Groups::Stub::SubmitCommit, *groups_, request, &response, latency);
}

grpc::Status TenantConnection::PostMessage(const v1::PostMessageRequest& request, absl::Duration* latency) {
  v1::PostMessageResponse response;
  return TimedCall(&v1::Mailbox::Stub::PostMessage, *mailbox_, request, &response, latency);
}

grpc::Status TenantConnection::HealthCheck(absl::Duration* latency) {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  std::unique_ptr<grpc::ClientContext> context = Context();
  const absl::Time start = absl::Now();
  grpc::Status status = health_->Check(context.get(), request, &response);
  *latency = absl::Now() - start;
  if (status.ok() && response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "artd's health check does not answer SERVING");
  }
  return status;
}

}  // namespace artd::load
