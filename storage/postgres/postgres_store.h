// The replicated storage backend: PostgreSQL through libpq (Debian's libpq5).
//
// Several artd replicas may share one database. Each store keeps a bounded pool of connections,
// opened on demand; a connection that breaks is discarded and its call fails UNAVAILABLE, so while
// the database is down the service answers UNAVAILABLE and it recovers by itself once the database is
// back. The operations that must be atomic across replicas use row locks inside READ COMMITTED
// transactions: ApplyCommit locks the group row (SELECT ... FOR UPDATE) before its epoch
// compare-and-swap, TakePrekeyBundle deletes the lowest unlocked one-time prekey (FOR UPDATE SKIP
// LOCKED) in one statement, PutStateBlob is one conditional UPDATE, and a nonce or an id is claimed by
// its unique key (a unique violation is ALREADY_EXISTS). Deadlocks and serialization failures re-run
// the transaction. Parameters always travel apart from the SQL, in binary (blobs are bytea).
//
// Schema: versioned by the schema_migrations table. OpenPostgresStore applies the migrations this
// binary knows and the database lacks, each in its own transaction under a transaction-scoped
// advisory lock, so replicas starting at once apply each exactly once.
#ifndef STORAGE_POSTGRES_POSTGRES_STORE_H_
#define STORAGE_POSTGRES_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace artd {

struct PostgresOptions {
  // Connections opened at most by this store.
  int max_connections = 8;
  // How long opening a connection may take before UNAVAILABLE (libpq's connect_timeout).
  int connect_timeout_seconds = 5;
  // How long a statement waits for another transaction's row lock before UNAVAILABLE.
  int lock_timeout_ms = 5000;
  // How many times a transaction runs at most when it keeps hitting deadlocks or serialization
  // failures (then UNAVAILABLE).
  int max_transaction_attempts = 8;
};

// Connects to the database at |url| (postgres://user@host:port/dbname?..., or a libpq key=value
// string) and brings its schema up to date. UNAVAILABLE when the database cannot be reached;
// FAILED_PRECONDITION if its schema is newer than this binary's.
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url, PostgresOptions options = {});

// The schema version this binary migrates to (the number of migrations it knows).
int PostgresSchemaVersion();

}  // namespace artd

#endif  // STORAGE_POSTGRES_POSTGRES_STORE_H_
