#include "service/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "service/core/service_core.h"
#include "service/grpc/handlers.h"
#include "service/grpc/tenant_authenticator.h"

namespace artd {
namespace {

class GrpcServer final : public RunningServer {
 public:
  GrpcServer(const ServerOptions& options, Store* store)
      : store_(store),
        core_(store, options.service),
        authenticator_(store, options.service.tenant_requests_per_second,
                       absl::Milliseconds(options.service.api_key_cache_millis)),
        key_directory_(HandlerContext{&core_, &authenticator_}),
        groups_(HandlerContext{&core_, &authenticator_}),
        mailbox_(HandlerContext{&core_, &authenticator_}),
        state_blobs_(HandlerContext{&core_, &authenticator_}) {}

  absl::Status Start(const ServerOptions& options) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(), &port_);
    builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_receive_message_bytes));
    builder.RegisterService(&key_directory_);
    builder.RegisterService(&groups_);
    builder.RegisterService(&mailbox_);
    builder.RegisterService(&state_blobs_);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen_address));
    }
    // Retention: expired messages and request nonces are deleted in the background.
    purger_ = std::thread([this, store = store_, interval = options.purge_interval] {
      while (!stopping_.WaitForNotificationWithTimeout(interval)) {
        (void)store->PurgeExpired(static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())));
      }
    });
    return absl::OkStatus();
  }

  ~GrpcServer() override {
    if (!stopping_.HasBeenNotified()) stopping_.Notify();
    if (purger_.joinable()) purger_.join();
  }

  int port() const override { return port_; }

  void Shutdown(absl::Duration drain) override {
    // Report NOT_SERVING first and keep serving a moment, so load balancers and clients watching
    // health move away, and calls already queued reach a handler: gRPC's Shutdown cancels calls that
    // arrived but were not yet dispatched, and only calls inside a handler get the drain time.
    server_->GetHealthCheckService()->Shutdown();
    absl::SleepFor(std::min(drain / 4, absl::Seconds(1)));
    server_->Shutdown(absl::ToChronoTime(absl::Now() + drain));
    if (!stopping_.HasBeenNotified()) stopping_.Notify();
  }

  void Wait() override { server_->Wait(); }

 private:
  Store* store_;
  ServiceCore core_;
  TenantAuthenticator authenticator_;
  KeyDirectoryHandler key_directory_;
  GroupsHandler groups_;
  MailboxHandler mailbox_;
  StateBlobsHandler state_blobs_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Notification stopping_;
  std::thread purger_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(const ServerOptions& options, Store* store) {
  auto server = std::make_unique<GrpcServer>(options, store);
  if (absl::Status started = server->Start(options); !started.ok()) return started;
  return server;
}

}  // namespace artd
