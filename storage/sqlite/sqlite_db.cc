#include "storage/sqlite/sqlite_db.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/random/distributions.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace artd {
namespace sqlite {

absl::Status SqliteStatus(int rc, sqlite3* db, const std::string& context) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = absl::StrCat(context, ": ", detail);
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return absl::AlreadyExistsError(message);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_CONSTRAINT:
      return absl::FailedPreconditionError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_IOERR:
      // The file system refused a read or write: a full disk (a write past RLIMIT_FSIZE or a quota,
      // EFBIG/EDQUOT, comes back as an I/O error rather than SQLITE_FULL) or a failing device.
      // SQLite has rolled the transaction back, so the call can succeed once the condition passes:
      // UNAVAILABLE, which clients retry, rather than INTERNAL, which says the service is broken.
      return absl::UnavailableError(
          absl::StrCat(message, " (the database's storage refused I/O: is its disk full?)"));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept : stmt_(other.stmt_), in_use_(other.in_use_) {
  other.stmt_ = nullptr;
  other.in_use_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

absl::Status Statement::Check(int rc, const char* what) const {
  if (rc == SQLITE_OK) return absl::OkStatus();
  return SqliteStatus(rc, sqlite3_db_handle(stmt_), absl::StrCat(what, " (", sqlite3_sql(stmt_), ")"));
}

absl::Status Statement::Bind(int index, const std::string& value) {
  return Check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                   SQLITE_UTF8),
               "bind");
}

absl::Status Statement::Bind(int index, BlobParam value) {
  // A null pointer would bind NULL, not an empty blob.
  if (value.size == 0) return Check(sqlite3_bind_zeroblob(stmt_, index, 0), "bind");
  return Check(sqlite3_bind_blob64(stmt_, index, value.data, value.size, SQLITE_TRANSIENT), "bind");
}

absl::Status Statement::BindInt64(int index, int64_t value) {
  return Check(sqlite3_bind_int64(stmt_, index, value), "bind");
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Check(rc, "step");
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

std::string Statement::BlobString(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return std::string();  // An empty blob reads as a null pointer.
  return std::string(static_cast<const char*>(blob), sqlite3_column_bytes(stmt_, column));
}

art::Bytes Statement::BlobBytes(int column) const {
  const uint8_t* blob = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  if (blob == nullptr) return art::Bytes();
  return art::Bytes(blob, blob + sqlite3_column_bytes(stmt_, column));
}

// ---- Connection ----

namespace {

bool IsInMemory(const std::string& path) { return path == ":memory:" || path.empty(); }

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                             int busy_timeout_ms) {
  sqlite3* db = nullptr;
  // NOMUTEX: the pool guarantees one thread at a time per connection, so SQLite's per-connection
  // mutex is not needed (the library itself is built thread-safe).
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Connection> connection;
  if (db != nullptr) connection.reset(new Connection(db));
  if (rc != SQLITE_OK) {
    return SqliteStatus(rc, db, absl::StrCat("opening SQLite database \"", path, "\""));
  }
  // Extended codes tell a PRIMARY KEY/UNIQUE violation from a foreign-key one.
  sqlite3_extended_result_codes(db, 1);
  absl::Status configured = connection->Configure(busy_timeout_ms, IsInMemory(path));
  if (!configured.ok()) return configured;
  return connection;
}

// SQLite's own busy_timeout handler backs off to 100 ms sleeps, so against another process that
// commits in a tight loop it keeps missing the gaps and times out (starves). This one polls every
// 1-2 ms (jittered, so two waiters do not poll in lockstep) until the timeout.
int Connection::BusyHandler(void* self, int attempts) {
  Connection* connection = static_cast<Connection*>(self);
  const absl::Time now = absl::Now();
  if (attempts == 0) connection->busy_since_ = now;
  if (now - connection->busy_since_ >= connection->busy_timeout_) return 0;  // Give up: SQLITE_BUSY.
  absl::SleepFor(absl::Microseconds(1000 + absl::Uniform(connection->jitter_, 0, 1000)));
  return 1;
}

absl::Status Connection::Configure(int busy_timeout_ms, bool in_memory) {
  // The busy handler first: switching to WAL itself may have to wait for another process.
  busy_timeout_ = absl::Milliseconds(busy_timeout_ms);
  int rc = sqlite3_busy_handler(db_, &Connection::BusyHandler, this);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, "setting the busy handler");
  absl::StatusOr<std::string> wal = EnableWal(busy_timeout_ms);
  if (!wal.ok()) return wal.status();
  const std::string& journal_mode = *wal;
  // An in-memory database has no file to write ahead of and stays in "memory" mode.
  if (!in_memory && journal_mode != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat("SQLite refused WAL journal mode (got \"", journal_mode, "\")"));
  }
  // FULL: the WAL is synced at every commit, so an acknowledged write survives a crash of the process
  // and of the machine. Foreign keys are per connection and off by default. temp_store=MEMORY keeps
  // statement and savepoint journals in memory: each write of a batch runs in its own SAVEPOINT,
  // whose journal of the pages it touches otherwise spills to a temporary file beyond 64 KiB (the
  // writer then spent thousands of pwrite calls a second on a file that is never read back).
  return Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;");
}

absl::StatusOr<std::string> Connection::EnableWal(int busy_timeout_ms) {
  // Switching a new database to WAL needs an exclusive lock, and SQLite reports BUSY at once rather
  // than calling the busy handler when another process is opening the same new file: retry until
  // the busy timeout. Once the file is in WAL mode (it stays so), this succeeds at once.
  const absl::Time deadline = absl::Now() + absl::Milliseconds(busy_timeout_ms);
  for (;;) {
    absl::StatusOr<std::string> mode = QueryText("PRAGMA journal_mode=WAL");
    if (mode.ok() || !absl::IsUnavailable(mode.status()) || absl::Now() >= deadline) return mode;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

absl::StatusOr<std::string> Connection::QueryText(const char* sql) {
  absl::StatusOr<Statement> statement = Prepare(sql);
  if (!statement.ok()) return statement.status();
  absl::StatusOr<bool> row = statement->Step();
  if (!row.ok()) return row.status();
  return *row ? statement->Text(0) : std::string();
}

Connection::~Connection() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

absl::StatusOr<Statement> Connection::Prepare(const char* sql) {
  CachedStatement& cached = cache_[sql];
  if (cached.stmt != nullptr && !cached.in_use) {
    cached.in_use = true;
    return Statement(cached.stmt, &cached.in_use);
  }
  // Not cached yet, or the cached one is busy (the same SQL nested inside itself): prepare a new one
  // and cache it only if the slot is free.
  bool cache_it = cached.stmt == nullptr;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, cache_it ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteStatus(rc, db_, absl::StrCat("preparing ", sql));
  }
  if (!cache_it) return Statement(stmt, nullptr);
  cached.stmt = stmt;
  cached.in_use = true;
  return Statement(stmt, &cached.in_use);
}

absl::Status Connection::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, absl::StrCat("executing ", sql));
  return absl::OkStatus();
}

// ---- ConnectionPool ----

ConnectionPool::ConnectionPool(std::string path, int max_connections, int busy_timeout_ms)
    : path_(std::move(path)),
      max_connections_(IsInMemory(path_) ? 1 : max_connections),
      busy_timeout_ms_(busy_timeout_ms) {}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &ConnectionPool::CanAcquire));
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    ++open_;  // Reserve the slot, then open outside the lock.
  }
  absl::StatusOr<std::unique_ptr<Connection>> opened = Connection::Open(path_, busy_timeout_ms_);
  if (!opened.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return opened.status();
  }
  return Lease(this, std::move(*opened));
}

bool ConnectionPool::CanAcquire() const { return !idle_.empty() || open_ < max_connections_; }

void ConnectionPool::Release(std::unique_ptr<Connection> connection) {
  // A connection left inside a transaction (a failed ROLLBACK) would hold locks: close it instead.
  if (connection->InTransaction() && !connection->Exec("ROLLBACK").ok()) connection.reset();
  absl::MutexLock lock(&mu_);
  if (connection == nullptr) {
    --open_;
  } else {
    idle_.push_back(std::move(connection));
  }
}

}  // namespace sqlite
}  // namespace artd
