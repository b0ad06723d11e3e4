#include "service/grpc/handlers.h"

namespace artd {
namespace {

// Authenticates the tenant, runs |operation| and translates the result.
template <typename Request, typename Response>
grpc::Status Serve(const HandlerContext& handler, grpc::ServerContext* context, const Request& request,
                   Response* response,
                   absl::StatusOr<Response> (ServiceCore::*operation)(const std::string&, const Request&)) {
  absl::StatusOr<std::string> tenant = handler.authenticator->Authenticate(*context);
  if (!tenant.ok()) return ToGrpcStatus(tenant.status());
  absl::StatusOr<Response> result = (handler.core->*operation)(*tenant, request);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

#define ART_HANDLER(Handler, Method)                                                              \
  grpc::Status Handler::Method(grpc::ServerContext* context, const v1::Method##Request* request, \
                               v1::Method##Response* response) {                                  \
    return Serve(context_, context, *request, response, &ServiceCore::Method);                    \
  }

ART_HANDLER(KeyDirectoryHandler, PublishIdentity)
ART_HANDLER(KeyDirectoryHandler, UploadPrekeys)
ART_HANDLER(KeyDirectoryHandler, CountPrekeys)
ART_HANDLER(KeyDirectoryHandler, FetchPrekeyBundle)
ART_HANDLER(GroupsHandler, CreateGroup)
ART_HANDLER(GroupsHandler, GetSetup)
ART_HANDLER(GroupsHandler, GetGroup)
ART_HANDLER(GroupsHandler, SubmitCommit)
ART_HANDLER(GroupsHandler, ListCommits)
ART_HANDLER(GroupsHandler, ReportAlarm)
ART_HANDLER(GroupsHandler, ListAlarms)
ART_HANDLER(MailboxHandler, PostMessage)
ART_HANDLER(MailboxHandler, FetchMessages)
ART_HANDLER(MailboxHandler, FetchWelcomes)
ART_HANDLER(MailboxHandler, AckWelcome)
ART_HANDLER(StateBlobsHandler, PutState)
ART_HANDLER(StateBlobsHandler, GetState)

#undef ART_HANDLER

grpc::Status GroupsHandler::WatchGroup(grpc::ServerContext* context, const v1::WatchGroupRequest* request,
                                       grpc::ServerWriter<v1::GroupEvent>* writer) {
  absl::StatusOr<std::string> tenant = context_.authenticator->Authenticate(*context);
  if (!tenant.ok()) return ToGrpcStatus(tenant.status());
  return ToGrpcStatus(context_.core->WatchGroup(
      *tenant, *request, [writer](const v1::GroupEvent& event) { return writer->Write(event); },
      [context] { return context->IsCancelled(); }));
}

}  // namespace artd
