// A thin RAII layer over libpq for the PostgreSQL store: results that free themselves, connections
// that prepare each statement once and always send parameters separately from the SQL (in binary
// format, so text and bytea are binary-safe), a bounded pool that opens connections on demand and
// discards broken ones, and transactions that roll back unless committed and are retried on
// serialization failures. Every libpq error becomes an absl::Status (see PostgresStatus).
#ifndef STORAGE_POSTGRES_PG_CONNECTION_H_
#define STORAGE_POSTGRES_PG_CONNECTION_H_

#include <postgresql/libpq-fe.h>

#include <array>
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
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "art/base/status_macros.h"
#include "art/crypto/bytes.h"
#include "storage/sql/query.h"

namespace artd {
namespace postgres {

// Maps a failed result to a status by its SQLSTATE: unique violations (23505) -> ALREADY_EXISTS,
// other integrity violations -> FAILED_PRECONDITION, serialization failures and deadlocks (40001,
// 40P01) -> ABORTED (Transact retries them), connection failures, shutdowns, lock and statement
// timeouts -> UNAVAILABLE, data exceptions (such as text that is not UTF-8) -> INVALID_ARGUMENT,
// insufficient resources -> RESOURCE_EXHAUSTED, corruption -> DATA_LOSS, anything else ->
// INTERNAL. A failure without a SQLSTATE (the server went away) is UNAVAILABLE. |context| says what
// was being done; the message also carries the server's own text.
absl::Status PostgresStatus(const std::string& sqlstate, const std::string& detail,
                            const std::string& context);

// A blob parameter goes as bytea (std::string goes as text, which PostgreSQL checks is UTF-8).
using sql::BlobParam;

// A bigint[] parameter, e.g. for "node = ANY($3)".
struct IndexList {
  absl::Span<const uint32_t> values;
};

// One statement parameter, in the form PQexecPrepared takes. Text, bytea and integers go in binary
// format with their type named, so the server never guesses a type and no value is ever parsed as
// SQL; an IndexList goes as an array literal in text format.
class Param {
 public:
  Param(const std::string& text) : type_(kText), borrowed_(text.data()), size_(text.size()) {}
  Param(const char* text) : type_(kText), borrowed_(text), size_(std::char_traits<char>::length(text)) {}
  Param(BlobParam blob) : type_(kBytea), borrowed_(static_cast<const char*>(blob.data)), size_(blob.size) {}
  Param(IndexList list);
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  Param(T value) : type_(kBigint) {
    SetBigint(sql::StoredInt(value));
  }

  Oid type() const { return type_; }
  // Owned values are read through owned_ each time: a Param may have moved since it was made.
  const char* data() const { return borrowed_ != nullptr ? borrowed_ : owned_.data(); }
  int size() const { return static_cast<int>(borrowed_ != nullptr ? size_ : owned_.size()); }
  int format() const { return type_ == kBigintArray ? 0 : 1; }

 private:
  // Type OIDs from PostgreSQL's pg_type.dat; they are fixed for built-in types.
  static constexpr Oid kBytea = 17;
  static constexpr Oid kBigint = 20;
  static constexpr Oid kText = 25;
  static constexpr Oid kBigintArray = 1016;

  void SetBigint(int64_t value);

  Oid type_;
  const char* borrowed_ = nullptr;
  size_t size_ = 0;
  std::string owned_;
};

// A result whose rows arrived in binary format. Integer columns may be smallint, integer or bigint;
// text and bytea columns read as their raw bytes.
class Result {
 public:
  explicit Result(PGresult* result) : result_(result) {}

  int rows() const { return PQntuples(result_.get()); }
  // Rows an INSERT, UPDATE or DELETE changed.
  int affected() const;
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  int64_t Int(int row, int column) const;
  uint64_t Uint(int row, int column) const { return static_cast<uint64_t>(Int(row, column)); }
  uint32_t Uint32(int row, int column) const { return static_cast<uint32_t>(Int(row, column)); }
  std::string String(int row, int column) const;
  art::Bytes BytesAt(int row, int column) const;

 private:
  struct Clear {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// One row of a Result, with the column accessors storage/sql/query.h expects (text and bytea both
// read as their raw bytes).
class Row {
 public:
  Row(const Result& result, int row) : result_(result), row_(row) {}
  int64_t Int(int column) const { return result_.Int(row_, column); }
  uint64_t Uint(int column) const { return result_.Uint(row_, column); }
  uint32_t Uint32(int column) const { return result_.Uint32(row_, column); }
  bool IsNull(int column) const { return result_.IsNull(row_, column); }
  std::string Text(int column) const { return result_.String(row_, column); }
  std::string BlobString(int column) const { return result_.String(row_, column); }
  art::Bytes BlobBytes(int column) const { return result_.BytesAt(row_, column); }

 private:
  const Result& result_;
  int row_;
};

// |sql| with its ?N parameters (SQLite's spelling, which the shared queries use) written as $N. A
// '?' inside a quoted string or identifier is left alone.
std::string PostgresPlaceholders(const char* sql);

struct ConnectOptions {
  int connect_timeout_seconds = 5;
  // How long a statement waits for a row lock before failing (UNAVAILABLE).
  int lock_timeout_ms = 5000;
};

// One connection, used by one thread at a time. Statements are prepared on first use and cached by
// the address of their SQL, which must be a string literal.
class Connection {
 public:
  // |url| is a postgres:// URL or a libpq key=value string; its own settings win over |options|.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& url,
                                                          const ConnectOptions& options);
  ~Connection() { PQfinish(connection_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs |sql| with |args| as its parameters ($1..$n, or ?1..?n) and returns its rows.
  template <typename... Args>
  absl::StatusOr<Result> Query(const char* sql, const Args&... args) {
    const std::array<Param, sizeof...(Args)> params = {Param(args)...};
    return Execute(sql, params);
  }

  // Runs |sql| with |args| and calls visit(row) on each row (a Row) until it returns false (see
  // storage/sql/query.h).
  template <typename Visit, typename... Args>
  absl::Status ForEachRow(const char* sql, Visit visit, const Args&... args) {
    absl::StatusOr<Result> result = Query(sql, args...);
    if (!result.ok()) return result.status();
    for (int row = 0; row < result->rows(); ++row) {
      if (!visit(Row(*result, row))) break;
    }
    return absl::OkStatus();
  }

  // Runs a statement without rows; returns the number of rows it changed.
  template <typename... Args>
  absl::StatusOr<int> Run(const char* sql, const Args&... args) {
    absl::StatusOr<Result> result = Query(sql, args...);
    if (!result.ok()) return result.status();
    return result->affected();
  }

  // Runs parameterless SQL, possibly several statements (transaction control, migration scripts).
  absl::Status Exec(const char* sql);

  // The SQLSTATE of the last failed statement ("" after a success or a failure without one).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // Whether the connection is lost (the server closed it or said it is shutting down).
  bool Broken() const { return broken_ || PQstatus(connection_) == CONNECTION_BAD; }
  bool InTransaction() const { return PQtransactionStatus(connection_) != PQTRANS_IDLE; }

 private:
  explicit Connection(PGconn* connection) : connection_(connection) {}
  absl::StatusOr<Result> Execute(const char* sql, absl::Span<const Param> params);
  // Takes |result| (which may be null): OK with the result, or the error it reports.
  absl::StatusOr<Result> Check(PGresult* result, const char* sql);

  PGconn* connection_;
  std::string last_sqlstate_;
  bool broken_ = false;
  // SQL literal address -> the name of its prepared statement on this connection.
  std::unordered_map<const char*, std::string> prepared_;
};

// Hands out connections to one database, at most |max_connections| at a time, opening them on
// demand. A connection returned broken is closed, so the next caller gets a fresh one: the pool
// recovers by itself once the server is reachable again. Thread-safe.
class ConnectionPool {
 public:
  ConnectionPool(std::string url, ConnectOptions options, int max_connections);

  // A connection returned to the pool (or discarded) when it goes out of scope.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection, bool reused)
        : pool_(pool), connection_(std::move(connection)), reused_(reused) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (connection_ != nullptr) pool_->Release(std::move(connection_));
    }
    Connection& operator*() const { return *connection_; }
    Connection* operator->() const { return connection_.get(); }
    // Whether the connection sat idle in the pool (it may have been lost while idle).
    bool reused() const { return reused_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
    bool reused_;
  };

  // UNAVAILABLE when a new connection cannot be opened.
  absl::StatusOr<Lease> Acquire();

  // Closes every idle connection: once one is found lost while idle (the server restarted), the
  // others most likely are too.
  void DiscardIdle();

 private:
  void Release(std::unique_ptr<Connection> connection);
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !idle_.empty() || open_ < max_connections_; }

  const std::string url_;
  const ConnectOptions options_;
  const int max_connections_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // Idle and leased.
};

// Transactions: kRead is REPEATABLE READ, READ ONLY (one snapshot for every statement of the body);
// kWrite is READ COMMITTED, whose bodies make their read-then-write steps safe with row locks (SELECT
// ... FOR UPDATE) or single statements. A body that returns an error, or a failed COMMIT, rolls back.
// Serialization failures and deadlocks re-run the whole body (up to |max_attempts| times, then
// UNAVAILABLE), and so does a pooled connection found lost before anything ran on it.
enum class TransactionKind { kRead, kWrite };

// Whether an error with |sqlstate| is worth running the transaction again.
bool IsRetryable(const std::string& sqlstate);

template <typename Body>
auto Transact(ConnectionPool& pool, TransactionKind kind, int max_attempts, Body&& body)
    -> decltype(body(std::declval<Connection&>())) {
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    Connection& connection = **lease;
    absl::Status begun = connection.Exec(kind == TransactionKind::kRead
                                             ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                                             : "BEGIN ISOLATION LEVEL READ COMMITTED");
    if (!begun.ok()) {
      // An idle connection the server dropped (a restart): nothing ran, so a fresh one may.
      if (lease->reused() && connection.Broken() && attempt < max_attempts) {
        pool.DiscardIdle();
        continue;
      }
      return begun;
    }
    auto result = body(connection);
    absl::Status status = art::StatusOf(result);
    if (status.ok()) status = connection.Exec("COMMIT");
    if (status.ok()) return result;
    const bool retry = IsRetryable(connection.last_sqlstate());
    if (connection.InTransaction() && !connection.Broken()) connection.Exec("ROLLBACK").IgnoreError();
    if (!retry) return status;
    if (attempt >= max_attempts) {
      return absl::UnavailableError(
          std::string(status.message()) + " (gave up after " + std::to_string(attempt) + " attempts)");
    }
  }
}

}  // namespace postgres
}  // namespace artd

#endif  // STORAGE_POSTGRES_PG_CONNECTION_H_
