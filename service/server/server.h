// Assembles a running artd server: storage, core, handlers, health checking and reflection.
// Used by the artd binary and by in-process tests.
#ifndef SERVICE_SERVER_SERVER_H_
#define SERVICE_SERVER_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/service_config.h"
#include "storage/store.h"

namespace artd {

struct ServerOptions {
  std::string listen_address = "127.0.0.1:50051";
  ServiceConfig service;
  uint32_t max_receive_message_bytes = 64 * 1024 * 1024;
  // How often expired messages and nonces are deleted.
  absl::Duration purge_interval = absl::Minutes(1);
};

class RunningServer {
 public:
  virtual ~RunningServer() = default;
  // The port actually bound (useful with a ":0" listen address).
  virtual int port() const = 0;
  // Stops accepting calls, lets in-flight calls finish for up to |drain|, then cancels the rest.
  virtual void Shutdown(absl::Duration drain) = 0;
  // Blocks until the server has shut down.
  virtual void Wait() = 0;
};

// Starts serving |store| (which must outlive the server).
absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(const ServerOptions& options, Store* store);

}  // namespace artd

#endif  // SERVICE_SERVER_SERVER_H_
