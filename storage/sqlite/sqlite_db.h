// A thin RAII layer over the SQLite C API for the SQLite store: connections that cache prepared
// statements, statements whose parameters are always bound (never formatted into SQL), transactions
// that roll back unless committed, and a small connection pool. Every SQLite error becomes an
// absl::Status (see SqliteStatus for the mapping).
#ifndef STORAGE_SQLITE_SQLITE_DB_H_
#define STORAGE_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "art/base/status_macros.h"
#include "art/crypto/bytes.h"
#include "storage/sql/query.h"

namespace artd {
namespace sqlite {

// Maps a SQLite result code to a status: BUSY/LOCKED (the busy timeout ran out) -> UNAVAILABLE,
// PRIMARY KEY/UNIQUE violations -> ALREADY_EXISTS, other constraint violations -> FAILED_PRECONDITION,
// FULL -> RESOURCE_EXHAUSTED, CORRUPT/NOTADB -> DATA_LOSS, anything else -> INTERNAL. |context| says
// what was being done; the message also carries SQLite's own text.
absl::Status SqliteStatus(int rc, sqlite3* db, const std::string& context);

// A blob parameter binds as BLOB (std::string binds as TEXT); the statement copies its bytes.
using sql::BlobParam;

// One prepared statement in use. Move-only. On destruction it is reset and its bindings cleared and
// |in_use| (the connection cache's flag) is cleared so the cache can hand it out again; a statement
// with no |in_use| was prepared outside the cache and is finalized.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, bool* in_use) : stmt_(stmt), in_use_(in_use) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Binds |args| to parameters 1..n in order.
  template <typename... Args>
  absl::Status BindAll(const Args&... args) {
    [[maybe_unused]] int index = 0;
    absl::Status status;
    ((status.ok() ? (status = Bind(++index, args), 0) : 0), ...);
    return status;
  }

  // Advances to the next row: true with a row, false when done.
  absl::StatusOr<bool> Step();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  uint64_t Uint(int column) const { return static_cast<uint64_t>(Int(column)); }
  uint32_t Uint32(int column) const { return static_cast<uint32_t>(Int(column)); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string Text(int column) const;
  std::string BlobString(int column) const;
  art::Bytes BlobBytes(int column) const;

 private:
  absl::Status Bind(int index, const std::string& value);
  absl::Status Bind(int index, const char* value) { return Bind(index, std::string(value)); }
  absl::Status Bind(int index, BlobParam value);
  absl::Status BindInt64(int index, int64_t value);
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  absl::Status Bind(int index, T value) {
    return BindInt64(index, sql::StoredInt(value));
  }
  absl::Status Check(int rc, const char* what) const;

  sqlite3_stmt* stmt_;
  bool* in_use_;
};

// One SQLite connection, used by one thread at a time (opened SQLITE_OPEN_NOMUTEX). Configures WAL,
// synchronous=FULL, foreign keys and the busy timeout on open.
class Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A statement for |sql|, which must be a string literal: its address keys the statement cache.
  absl::StatusOr<Statement> Prepare(const char* sql);

  // Prepares |sql| and binds |args|; step the result for rows.
  template <typename... Args>
  absl::StatusOr<Statement> Query(const char* sql, const Args&... args) {
    absl::StatusOr<Statement> statement = Prepare(sql);
    if (!statement.ok()) return statement.status();
    absl::Status bound = statement->BindAll(args...);
    if (!bound.ok()) return bound;
    return statement;
  }

  // Runs |sql| with |args| and calls visit(statement) on each row until it returns false (see
  // storage/sql/query.h). The statement is reset on return, so a write with RETURNING has completed.
  template <typename Visit, typename... Args>
  absl::Status ForEachRow(const char* sql, Visit visit, const Args&... args) {
    absl::StatusOr<Statement> statement = Query(sql, args...);
    if (!statement.ok()) return statement.status();
    for (;;) {
      absl::StatusOr<bool> row = statement->Step();
      if (!row.ok()) return row.status();
      if (!*row || !visit(static_cast<const Statement&>(*statement))) return absl::OkStatus();
    }
  }

  // Runs a statement that returns no rows; returns the number of rows it changed.
  template <typename... Args>
  absl::StatusOr<int> Run(const char* sql, const Args&... args) {
    absl::StatusOr<Statement> statement = Query(sql, args...);
    if (!statement.ok()) return statement.status();
    absl::StatusOr<bool> row = statement->Step();
    if (!row.ok()) return row.status();
    return sqlite3_changes(db_);
  }

  // Runs parameterless SQL, possibly several statements (migration scripts, settings), parsed anew.
  absl::Status Exec(const char* sql);
  // Runs one parameterless statement such as BEGIN, SAVEPOINT or COMMIT, prepared once per connection
  // (every call runs several: parsing them each time cost more than some of the calls' queries).
  absl::Status Control(const char* sql) { return Run(sql).status(); }

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* db() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  absl::Status Configure(int busy_timeout_ms, bool in_memory);
  // SQLite's busy callback (see the definition for why not sqlite3_busy_timeout).
  static int BusyHandler(void* self, int attempts);
  // Sets journal_mode=WAL; returns the journal mode SQLite reports after.
  absl::StatusOr<std::string> EnableWal(int busy_timeout_ms);
  // The first column of the first row of |sql| as text ("" without a row).
  absl::StatusOr<std::string> QueryText(const char* sql);

  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  sqlite3* db_;
  absl::Duration busy_timeout_;
  absl::Time busy_since_;
  absl::BitGen jitter_;
  // Keyed by the SQL literal's address. A Statement points at its entry's in_use flag, so entries
  // must not move: unordered_map never moves its nodes.
  std::unordered_map<const char*, CachedStatement> cache_;
};

// Hands out connections to one database file, at most |max_connections| at a time, opening them
// lazily. Thread-safe. An in-memory database is private to its connection, so ":memory:" gets one.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, int max_connections, int busy_timeout_ms);

  // A connection returned to the pool when it goes out of scope.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (connection_ != nullptr) pool_->Release(std::move(connection_));
    }
    Connection& operator*() const { return *connection_; }
    Connection* operator->() const { return connection_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  absl::StatusOr<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> connection);
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const int max_connections_;
  const int busy_timeout_ms_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// Transactions. The body runs on |connection| inside BEGIN (reads) or BEGIN IMMEDIATE (writes, which
// take the database's write lock up front so two writers serialize instead of one failing at
// upgrade). A body that returns an error, or a failed COMMIT, rolls the transaction back.
// |Body| returns absl::Status or absl::StatusOr<T>.
enum class TransactionKind { kRead, kWrite };

template <typename Body>
auto InTransaction(Connection& connection, TransactionKind kind, Body&& body)
    -> decltype(body(connection)) {
  absl::Status begun =
      connection.Control(kind == TransactionKind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  if (!begun.ok()) return begun;
  auto result = body(connection);
  absl::Status status = art::StatusOf(result);
  if (status.ok()) status = connection.Control("COMMIT");
  if (!status.ok()) {
    // Best effort: SQLite may already have rolled back (e.g. after SQLITE_FULL).
    if (connection.InTransaction()) connection.Control("ROLLBACK").IgnoreError();
    return status;
  }
  return result;
}

}  // namespace sqlite
}  // namespace artd

#endif  // STORAGE_SQLITE_SQLITE_DB_H_
