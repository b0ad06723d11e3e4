// The gRPC services: thin handlers that authenticate the tenant, call ServiceCore and translate its
// absl::Status into a grpc::Status with the same code and message.
#ifndef SERVICE_GRPC_HANDLERS_H_
#define SERVICE_GRPC_HANDLERS_H_

#include "api/art/v1/service.grpc.pb.h"
#include "service/core/service_core.h"
#include "service/grpc/tenant_authenticator.h"

namespace artd {

// What every handler needs.
struct HandlerContext {
  ServiceCore* core;
  TenantAuthenticator* authenticator;
};

class KeyDirectoryHandler final : public v1::KeyDirectory::Service {
 public:
  explicit KeyDirectoryHandler(HandlerContext context) : context_(context) {}
  grpc::Status PublishIdentity(grpc::ServerContext* context, const v1::PublishIdentityRequest* request,
                               v1::PublishIdentityResponse* response) override;
  grpc::Status UploadPrekeys(grpc::ServerContext* context, const v1::UploadPrekeysRequest* request,
                             v1::UploadPrekeysResponse* response) override;
  grpc::Status CountPrekeys(grpc::ServerContext* context, const v1::CountPrekeysRequest* request,
                            v1::CountPrekeysResponse* response) override;
  grpc::Status FetchPrekeyBundle(grpc::ServerContext* context, const v1::FetchPrekeyBundleRequest* request,
                                 v1::FetchPrekeyBundleResponse* response) override;

 private:
  HandlerContext context_;
};

class GroupsHandler final : public v1::Groups::Service {
 public:
  explicit GroupsHandler(HandlerContext context) : context_(context) {}
  grpc::Status CreateGroup(grpc::ServerContext* context, const v1::CreateGroupRequest* request,
                           v1::CreateGroupResponse* response) override;
  grpc::Status GetSetup(grpc::ServerContext* context, const v1::GetSetupRequest* request,
                        v1::GetSetupResponse* response) override;
  grpc::Status GetGroup(grpc::ServerContext* context, const v1::GetGroupRequest* request,
                        v1::GetGroupResponse* response) override;
  grpc::Status SubmitCommit(grpc::ServerContext* context, const v1::SubmitCommitRequest* request,
                            v1::SubmitCommitResponse* response) override;
  grpc::Status ListCommits(grpc::ServerContext* context, const v1::ListCommitsRequest* request,
                           v1::ListCommitsResponse* response) override;
  grpc::Status WatchGroup(grpc::ServerContext* context, const v1::WatchGroupRequest* request,
                          grpc::ServerWriter<v1::GroupEvent>* writer) override;
  grpc::Status ReportAlarm(grpc::ServerContext* context, const v1::ReportAlarmRequest* request,
                           v1::ReportAlarmResponse* response) override;
  grpc::Status ListAlarms(grpc::ServerContext* context, const v1::ListAlarmsRequest* request,
                          v1::ListAlarmsResponse* response) override;

 private:
  HandlerContext context_;
};

class MailboxHandler final : public v1::Mailbox::Service {
 public:
  explicit MailboxHandler(HandlerContext context) : context_(context) {}
  grpc::Status PostMessage(grpc::ServerContext* context, const v1::PostMessageRequest* request,
                           v1::PostMessageResponse* response) override;
  grpc::Status FetchMessages(grpc::ServerContext* context, const v1::FetchMessagesRequest* request,
                             v1::FetchMessagesResponse* response) override;
  grpc::Status FetchWelcomes(grpc::ServerContext* context, const v1::FetchWelcomesRequest* request,
                             v1::FetchWelcomesResponse* response) override;
  grpc::Status AckWelcome(grpc::ServerContext* context, const v1::AckWelcomeRequest* request,
                          v1::AckWelcomeResponse* response) override;

 private:
  HandlerContext context_;
};

class StateBlobsHandler final : public v1::StateBlobs::Service {
 public:
  explicit StateBlobsHandler(HandlerContext context) : context_(context) {}
  grpc::Status PutState(grpc::ServerContext* context, const v1::PutStateRequest* request,
                        v1::PutStateResponse* response) override;
  grpc::Status GetState(grpc::ServerContext* context, const v1::GetStateRequest* request,
                        v1::GetStateResponse* response) override;

 private:
  HandlerContext context_;
};

// The same code and message as a grpc::Status.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace artd

#endif  // SERVICE_GRPC_HANDLERS_H_
