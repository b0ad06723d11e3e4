// artd: the ART group key service. `artd serve` runs the gRPC server; `artd admin ...` manages
// tenants and API keys directly in the database (the admin path needs database access, which is the
// admin credential).
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "art/crypto/bytes.h"
#include "service/grpc/tenant_authenticator.h"
#include "service/server/server.h"
#include "storage/open_store.h"

namespace artd {
namespace {

// The database setting without any credentials, fit for logs: "postgres://user:secret@host/db"
// becomes "postgres://…@host/db".
std::string DatabaseForLog(const std::string& database) {
  const size_t scheme = database.find("://");
  const size_t at = database.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return database;
  return database.substr(0, scheme + 3) + "…" + database.substr(at);
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "artd: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

std::unique_ptr<Store> OpenOrExit(const std::string& database) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(database);
  if (!store.ok()) std::exit(Fail("opening database " + DatabaseForLog(database), store.status()));
  return *std::move(store);
}

int Serve(const ServerOptions& options, const std::string& database, int drain_seconds) {
  // Block the shutdown signals before any thread starts, so that only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<Store> store = OpenOrExit(database);
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(options, store.get());
  if (!server.ok()) return Fail("starting the server", server.status());
  std::fprintf(stderr, "artd: serving on port %d with database %s\n", (*server)->port(),
               DatabaseForLog(database).c_str());
  std::fflush(stderr);

  int received = 0;
  sigwait(&signals, &received);
  std::fprintf(stderr, "artd: %s received; draining for up to %d s\n", strsignal(received), drain_seconds);
  (*server)->Shutdown(absl::Seconds(drain_seconds));
  (*server)->Wait();
  server->reset();
  store.reset();  // Closes the database after the last call has finished.
  std::fprintf(stderr, "artd: stopped\n");
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"artd: end-to-end-encrypted group key management (ART)"};
  app.require_subcommand(1);
  std::string database = "artd.db";

  CLI::App* serve = app.add_subcommand("serve", "run the gRPC server");
  ServerOptions options;
  int drain_seconds = 10;
  serve->add_option("--listen", options.listen_address, "address to listen on")->envname("ARTD_LISTEN")->capture_default_str();
  serve->add_option("--database", database, "SQLite file, or a postgres:// URL")->envname("ARTD_DATABASE")->capture_default_str();
  serve->add_option("--drain-seconds", drain_seconds, "how long in-flight calls may finish on SIGTERM")
      ->envname("ARTD_DRAIN_SECONDS")->capture_default_str();
  serve->add_option("--max-group-size", options.service.max_group_size)->envname("ARTD_MAX_GROUP_SIZE")->capture_default_str();
  serve->add_option("--max-message-bytes", options.service.max_message_bytes)->envname("ARTD_MAX_MESSAGE_BYTES")->capture_default_str();
  serve->add_option("--max-prekeys-per-upload", options.service.max_one_time_prekeys_per_upload)
      ->envname("ARTD_MAX_PREKEYS_PER_UPLOAD")->capture_default_str();
  serve->add_option("--tenant-requests-per-second", options.service.tenant_requests_per_second, "0: no limit")
      ->envname("ARTD_TENANT_REQUESTS_PER_SECOND")->capture_default_str();
  serve->add_option("--api-key-cache-millis", options.service.api_key_cache_millis,
                    "how long a looked-up API key is remembered (a revoked key stops working within it)")
      ->envname("ARTD_API_KEY_CACHE_MILLIS")->capture_default_str();
  uint64_t message_ttl_seconds = options.service.message_ttl_millis / 1000;
  serve->add_option("--message-ttl-seconds", message_ttl_seconds)->envname("ARTD_MESSAGE_TTL_SECONDS")->capture_default_str();

  CLI::App* admin = app.add_subcommand("admin", "manage tenants and API keys in the database");
  admin->require_subcommand(1);
  admin->add_option("--database", database, "SQLite file, or a postgres:// URL")->envname("ARTD_DATABASE")->capture_default_str();
  std::string tenant, key_id, public_key_hex;
  CLI::App* create_tenant = admin->add_subcommand("create-tenant", "create a tenant");
  create_tenant->add_option("--tenant", tenant)->required();
  CLI::App* issue_key = admin->add_subcommand("issue-key", "issue an API key for a tenant (printed once)");
  issue_key->add_option("--tenant", tenant)->required();
  CLI::App* revoke_key = admin->add_subcommand("revoke-key", "revoke an API key by its id");
  revoke_key->add_option("--key-id", key_id)->required();
  CLI::App* add_credential_key =
      admin->add_subcommand("add-credential-key", "trust a tenant credential public key (Ed25519, hex)");
  add_credential_key->add_option("--tenant", tenant)->required();
  add_credential_key->add_option("--public-key", public_key_hex)->required();

  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) {
    options.service.message_ttl_millis = message_ttl_seconds * 1000;
    return Serve(options, database, drain_seconds);
  }
  std::unique_ptr<Store> store = OpenOrExit(database);
  if (create_tenant->parsed()) {
    if (absl::Status status = store->CreateTenant(tenant); !status.ok()) return Fail("create-tenant", status);
    std::printf("created tenant %s\n", tenant.c_str());
  } else if (issue_key->parsed()) {
    absl::StatusOr<IssuedApiKey> key = NewApiKey();
    if (!key.ok()) return Fail("issue-key", key.status());
    if (absl::Status status = store->AddApiKey(tenant, key->key_id, key->hash); !status.ok()) {
      return Fail("issue-key", status);
    }
    std::printf("key_id %s\napi_key %s\n", key->key_id.c_str(), key->key.c_str());
  } else if (revoke_key->parsed()) {
    if (absl::Status status = store->RevokeApiKey(key_id); !status.ok()) return Fail("revoke-key", status);
    std::printf("revoked %s\n", key_id.c_str());
  } else if (add_credential_key->parsed()) {
    art::Bytes key;
    if (!art::FromHex(public_key_hex, &key) || key.size() != art::kEd25519PublicKeySize) {
      return Fail("add-credential-key", absl::InvalidArgumentError("--public-key must be 64 hex digits"));
    }
    if (absl::Status status = store->AddTenantCredentialKey(tenant, key); !status.ok()) {
      return Fail("add-credential-key", status);
    }
    std::printf("tenant %s now trusts credential key %s\n", tenant.c_str(), public_key_hex.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace artd

int main(int argc, char** argv) { return artd::Main(argc, argv); }
