// The embedded storage backend: one SQLite database file (Debian's libsqlite3) in WAL mode.
//
// Durability: synchronous=FULL, so a call that returned OK survives kill -9 of the process (and a
// power loss). Concurrency: one store may be shared by any number of threads; it keeps a pool of
// connections so reads run in parallel, and group-commits this process's writers: one writer thread
// per store runs the writes that arrive while a batch is written as the next batch, on a connection
// of its own, in one transaction and one fsync (they would serialize on SQLite's write lock anyway).
// Several processes may open the same file: every write transaction is BEGIN IMMEDIATE and waits up
// to the busy timeout for another process's writer, then fails with UNAVAILABLE.
//
// Schema: versioned by the schema_migrations table; OpenSqliteStore applies the migrations this
// binary knows and the file lacks, each in its own transaction, safely against a concurrent opener.
#ifndef STORAGE_SQLITE_SQLITE_STORE_H_
#define STORAGE_SQLITE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace artd {

struct SqliteStoreOptions {
  // Reading connections opened at most (one for ":memory:", whose database is private to its
  // connection); a file also gets one connection of its own for writes.
  int max_connections = 16;
  // How long a transaction waits for another process's lock before UNAVAILABLE.
  int busy_timeout_ms = 5000;
};

// Opens (creating if needed) the database at |path|, or a private in-memory one for ":memory:", and
// brings its schema up to date. FAILED_PRECONDITION if the file's schema is newer than this binary's.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                       const SqliteStoreOptions& options = {});

// The schema version this binary migrates to (the number of migrations it knows).
int SqliteSchemaVersion();

}  // namespace artd

#endif  // STORAGE_SQLITE_SQLITE_STORE_H_
