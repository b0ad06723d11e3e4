// artd: the ART group key service. `artd serve` runs the gRPC server; `artd admin ...` manages
// tenants, API keys and client certificates directly in the database (the admin path needs database
// access, which is the admin credential) and writes an audit log line for every action.
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "art/crypto/bytes.h"
#include "service/grpc/client_certificate.h"
#include "service/grpc/tenant_authenticator.h"
#include "service/observability/log_line.h"
#include "service/observability/log_sink.h"
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

// artd's own lifecycle lines ("artd: serving on port N ...", "artd: stopped") stay plain text: scripts,
// tests and the load tool read them. Access and audit lines are structured.
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
  // Abseil's mutex deadlock detection (on in Debian's build) records every lock acquisition in a
  // global graph: a cost on every storage call. The tests keep it; the server does without.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::unique_ptr<Store> store = OpenOrExit(database);
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(options, store.get());
  if (!server.ok()) return Fail("starting the server", server.status());
  std::fprintf(stderr, "artd: serving on port %d with database %s\n", (*server)->port(),
               DatabaseForLog(database).c_str());
  if ((*server)->health_port() != 0) std::fprintf(stderr, "artd: health on port %d\n", (*server)->health_port());
  if ((*server)->metrics_port() != 0) std::fprintf(stderr, "artd: metrics on port %d\n", (*server)->metrics_port());
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

// One `artd admin` action for the audit log: what was done to which tenant, key or certificate. Never
// an API key or its hash (the key id names a key).
struct AuditEntry {
  AuditEntry(std::string action_name, std::string tenant_id, std::string key = "")
      : action(std::move(action_name)), tenant(std::move(tenant_id)), key_id(std::move(key)) {}

  std::string action;
  std::string tenant;
  std::string key_id;
  std::string certificate_sha256;     // Hex.
  std::string credential_public_key;  // Hex; a public key.
};

// Writes one JSON line per admin action, naming the actor: the process's uid and user name, and the
// invoking user when run through sudo.
class AuditLog {
 public:
  explicit AuditLog(observability::LogSink& sink) : sink_(sink) {}

  // Logs |entry| with its outcome; returns |outcome|.
  absl::Status Record(const AuditEntry& entry, absl::Status outcome) {
    observability::LogLine line(observability::LogFormat::kJson, outcome.ok() ? "info" : "error");
    const uid_t uid = getuid();
    const passwd* user = getpwuid(uid);
    line.Add("log", "audit").Add("action", entry.action).Add("actor_uid", static_cast<int64_t>(uid));
    line.Add("actor_user", user != nullptr ? user->pw_name : "");
    if (const char* sudo_user = std::getenv("SUDO_USER"); sudo_user != nullptr) line.Add("sudo_user", sudo_user);
    if (!entry.tenant.empty()) line.Add("tenant", entry.tenant);
    if (!entry.key_id.empty()) line.Add("key_id", entry.key_id);
    if (!entry.certificate_sha256.empty()) line.Add("certificate_sha256", entry.certificate_sha256);
    if (!entry.credential_public_key.empty()) line.Add("credential_public_key", entry.credential_public_key);
    line.Add("outcome", outcome.ok() ? "ok" : "failed");
    if (!outcome.ok()) line.Add("error", outcome.ToString());
    sink_.Write(line.Finish());
    return outcome;
  }

 private:
  observability::LogSink& sink_;
};

// The fingerprint an admin names a client certificate by: from its PEM file, or given.
absl::StatusOr<art::Bytes> ClientCertificateFingerprint(const std::string& cert_file,
                                                        const std::string& fingerprint_hex) {
  if (cert_file.empty() && fingerprint_hex.empty()) {
    return absl::InvalidArgumentError("name the certificate with --cert-file or --fingerprint");
  }
  if (cert_file.empty()) return ParseCertificateFingerprint(fingerprint_hex);
  std::ifstream file(cert_file, std::ios::binary);
  std::ostringstream pem;
  if (!file || !(pem << file.rdbuf())) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", cert_file));
  }
  return CertificateFingerprint(pem.str());
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
  serve->add_option("--tls-cert-file", options.tls.cert_file, "PEM certificate chain: serve TLS (none: plaintext)")
      ->envname("ARTD_TLS_CERT_FILE");
  serve->add_option("--tls-key-file", options.tls.key_file, "PEM private key of --tls-cert-file")
      ->envname("ARTD_TLS_KEY_FILE");
  serve->add_option("--tls-client-ca-file", options.tls.client_ca_file,
                    "PEM CA certificates: verify client certificates (bound ones authenticate tenants)")
      ->envname("ARTD_TLS_CLIENT_CA_FILE");
  serve->add_flag("--tls-require-client-cert", options.tls.require_client_cert,
                  "refuse clients without a certificate from --tls-client-ca-file")
      ->envname("ARTD_TLS_REQUIRE_CLIENT_CERT");
  serve->add_option("--health-listen", options.health_listen_address,
                    "host:port of a plaintext port serving only gRPC health (for probes without TLS; empty: off)")
      ->envname("ARTD_HEALTH_LISTEN");
  serve->add_option("--metrics-listen", options.observability.metrics_listen,
                    "host:port of the Prometheus endpoint /metrics (empty: off)")
      ->envname("ARTD_METRICS_LISTEN");
  serve->add_option("--access-log", options.observability.access_log_enabled,
                    "write an access log line per call on stderr (false: metrics only)")
      ->envname("ARTD_ACCESS_LOG")
      ->capture_default_str();
  std::string log_format = "json";
  serve->add_option("--log-format", log_format, "access log format")
      ->envname("ARTD_LOG_FORMAT")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  int tenant_metrics_interval_seconds = 30;
  serve->add_option("--tenant-metrics-interval-seconds", tenant_metrics_interval_seconds,
                    "how often the per-tenant gauges are read from the database")
      ->envname("ARTD_TENANT_METRICS_INTERVAL_SECONDS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--tenant-metrics-top", options.observability.tenant_metrics_top,
                    "tenants with their own gauge series (the rest are summed as tenant=\"(other)\")")
      ->envname("ARTD_TENANT_METRICS_TOP")
      ->capture_default_str();

  CLI::App* admin = app.add_subcommand("admin", "manage tenants, API keys and client certificates in the database");
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
  std::string cert_file, fingerprint_hex;
  CLI::App* bind_client_cert = admin->add_subcommand(
      "bind-client-cert", "let a client certificate (verified by the server's client CA) authenticate a tenant");
  bind_client_cert->add_option("--tenant", tenant)->required();
  CLI::App* unbind_client_cert =
      admin->add_subcommand("unbind-client-cert", "stop a client certificate authenticating its tenant");
  for (CLI::App* command : {bind_client_cert, unbind_client_cert}) {
    CLI::Option* file = command->add_option("--cert-file", cert_file, "the client certificate (PEM)");
    CLI::Option* hex = command->add_option("--fingerprint", fingerprint_hex,
                                           "or its SHA-256 fingerprint (of the DER certificate; hex, ':' allowed)");
    file->excludes(hex);
    hex->excludes(file);
  }
  std::string audit_log_file;
  admin->add_option("--audit-log-file", audit_log_file, "append audit lines here instead of stderr")
      ->envname("ARTD_AUDIT_LOG_FILE");

  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) {
    options.service.message_ttl_millis = message_ttl_seconds * 1000;
    options.observability.tenant_metrics_interval = absl::Seconds(tenant_metrics_interval_seconds);
    absl::StatusOr<observability::LogFormat> format = observability::ParseLogFormat(log_format);
    if (!format.ok()) return Fail("--log-format", format.status());
    options.observability.log_format = *format;
    return Serve(options, database, drain_seconds);
  }
  absl::StatusOr<std::unique_ptr<observability::LogSink>> audit_file;
  if (!audit_log_file.empty()) {
    audit_file = observability::OpenAppendLogSink(audit_log_file);
    if (!audit_file.ok()) return Fail("opening the audit log", audit_file.status());
  }
  AuditLog audit(audit_file.ok() && *audit_file != nullptr ? **audit_file : observability::StderrLogSink());
  std::unique_ptr<Store> store = OpenOrExit(database);
  if (create_tenant->parsed()) {
    AuditEntry entry{"create-tenant", tenant};
    if (absl::Status status = audit.Record(entry, store->CreateTenant(tenant)); !status.ok()) {
      return Fail("create-tenant", status);
    }
    std::printf("created tenant %s\n", tenant.c_str());
  } else if (issue_key->parsed()) {
    absl::StatusOr<IssuedApiKey> key = NewApiKey();
    if (!key.ok()) return Fail("issue-key", key.status());
    AuditEntry entry{"issue-key", tenant, key->key_id};
    if (absl::Status status = audit.Record(entry, store->AddApiKey(tenant, key->key_id, key->hash)); !status.ok()) {
      return Fail("issue-key", status);
    }
    std::printf("key_id %s\napi_key %s\n", key->key_id.c_str(), key->key.c_str());
  } else if (revoke_key->parsed()) {
    AuditEntry entry{"revoke-key", "", key_id};
    if (absl::Status status = audit.Record(entry, store->RevokeApiKey(key_id)); !status.ok()) {
      return Fail("revoke-key", status);
    }
    std::printf("revoked %s\n", key_id.c_str());
  } else if (add_credential_key->parsed()) {
    art::Bytes key;
    if (!art::FromHex(public_key_hex, &key) || key.size() != art::kEd25519PublicKeySize) {
      return Fail("add-credential-key", absl::InvalidArgumentError("--public-key must be 64 hex digits"));
    }
    AuditEntry entry{"add-credential-key", tenant};
    entry.credential_public_key = art::ToHex(key);
    if (absl::Status status = audit.Record(entry, store->AddTenantCredentialKey(tenant, key)); !status.ok()) {
      return Fail("add-credential-key", status);
    }
    std::printf("tenant %s now trusts credential key %s\n", tenant.c_str(), public_key_hex.c_str());
  } else if (bind_client_cert->parsed() || unbind_client_cert->parsed()) {
    const bool bind = bind_client_cert->parsed();
    const char* action = bind ? "bind-client-cert" : "unbind-client-cert";
    absl::StatusOr<art::Bytes> fingerprint = ClientCertificateFingerprint(cert_file, fingerprint_hex);
    if (!fingerprint.ok()) return Fail(action, fingerprint.status());
    AuditEntry entry{action, bind ? tenant : ""};
    entry.certificate_sha256 = art::ToHex(*fingerprint);
    absl::Status status = bind ? store->BindClientCertificate(tenant, *fingerprint)
                               : store->UnbindClientCertificate(*fingerprint);
    if (status = audit.Record(entry, status); !status.ok()) return Fail(action, status);
    if (bind) {
      std::printf("client certificate sha256 %s now authenticates tenant %s\n", entry.certificate_sha256.c_str(),
                  tenant.c_str());
    } else {
      std::printf("client certificate sha256 %s unbound\n", entry.certificate_sha256.c_str());
    }
  }
  return 0;
}

}  // namespace
}  // namespace artd

int main(int argc, char** argv) { return artd::Main(argc, argv); }
