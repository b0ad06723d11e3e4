#include "storage/postgres/pg_connection.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace artd {
namespace postgres {

absl::Status PostgresStatus(const std::string& sqlstate, const std::string& detail,
                            const std::string& context) {
  // libpq ends its messages with a newline.
  std::string message = absl::StrCat(context, ": ", absl::StripTrailingAsciiWhitespace(detail));
  if (sqlstate.empty()) return absl::UnavailableError(message);
  if (sqlstate == "23505") return absl::AlreadyExistsError(message);
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::AbortedError(message);
  // 55P03: lock_timeout ran out; 57014: statement_timeout (or a cancel); 53300: too many connections;
  // 57P01-57P03: the server is shutting down or starting.
  if (sqlstate == "55P03" || sqlstate == "57014" || sqlstate == "53300" ||
      absl::StartsWith(sqlstate, "57P") || absl::StartsWith(sqlstate, "08")) {
    return absl::UnavailableError(message);
  }
  if (absl::StartsWith(sqlstate, "23")) return absl::FailedPreconditionError(message);
  if (absl::StartsWith(sqlstate, "22")) return absl::InvalidArgumentError(message);
  if (absl::StartsWith(sqlstate, "53")) return absl::ResourceExhaustedError(message);
  if (sqlstate == "XX001" || sqlstate == "XX002") return absl::DataLossError(message);
  return absl::InternalError(message);
}

bool IsRetryable(const std::string& sqlstate) { return sqlstate == "40001" || sqlstate == "40P01"; }

namespace {

// Whether an error means the session is over: the connection failed, or the server is going away
// (after which it closes the connection).
bool EndsSession(const std::string& sqlstate) {
  return absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

}  // namespace

// ---- Param ----

Param::Param(IndexList list) : type_(kBigintArray) {
  owned_ = absl::StrCat("{", absl::StrJoin(list.values, ","), "}");
}

void Param::SetBigint(int64_t value) {
  // Binary bigint is 8 bytes, most significant first.
  const uint64_t bits = static_cast<uint64_t>(value);
  owned_.resize(8);
  for (int i = 0; i < 8; ++i) owned_[i] = static_cast<char>(bits >> (56 - 8 * i));
}

// ---- Result ----

int Result::affected() const {
  const char* tuples = PQcmdTuples(result_.get());
  return tuples[0] == '\0' ? 0 : std::atoi(tuples);
}

int64_t Result::Int(int row, int column) const {
  // Binary integers are big-endian two's complement of their type's width.
  const unsigned char* value =
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column));
  const int length = PQgetlength(result_.get(), row, column);
  if (length == 0) return 0;  // NULL.
  uint64_t bits = (value[0] & 0x80) != 0 ? ~uint64_t{0} : 0;  // Sign extension.
  for (int i = 0; i < length; ++i) bits = (bits << 8) | value[i];
  return static_cast<int64_t>(bits);
}

std::string Result::String(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column), PQgetlength(result_.get(), row, column));
}

art::Bytes Result::BytesAt(int row, int column) const {
  const uint8_t* value = reinterpret_cast<const uint8_t*>(PQgetvalue(result_.get(), row, column));
  return art::Bytes(value, value + PQgetlength(result_.get(), row, column));
}

// ---- Connection ----

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& url,
                                                             const ConnectOptions& options) {
  const std::string timeout = std::to_string(options.connect_timeout_seconds);
  const std::string session = absl::StrCat("-c lock_timeout=", options.lock_timeout_ms);
  // Our defaults come first: with expand_dbname, the settings in |url| override earlier keywords.
  const char* keywords[] = {"connect_timeout", "options", "client_encoding", "application_name", "dbname",
                            nullptr};
  const char* values[] = {timeout.c_str(), session.c_str(), "UTF8", "artd", url.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (raw == nullptr) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  std::unique_ptr<Connection> connection(new Connection(raw));
  // libpq prints the server's notices (such as "already exists, skipping") to stderr by default.
  PQsetNoticeProcessor(raw, [](void*, const char*) {}, nullptr);
  if (PQstatus(raw) != CONNECTION_OK) {
    // Connection failures carry no SQLSTATE: the server is down, unreachable or refused us.
    return absl::UnavailableError(absl::StrCat("connecting to PostgreSQL: ",
                                               absl::StripTrailingAsciiWhitespace(PQerrorMessage(raw))));
  }
  return connection;
}

absl::StatusOr<Result> Connection::Check(PGresult* raw, const char* sql) {
  Result result(raw);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return result;
  }
  const char* sqlstate = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = sqlstate != nullptr ? sqlstate : "";
  if (EndsSession(last_sqlstate_)) broken_ = true;
  const char* detail = raw != nullptr ? PQresultErrorMessage(raw) : "";
  if (detail[0] == '\0') detail = PQerrorMessage(connection_);
  // Without a SQLSTATE the failure was the connection's, whatever PQstatus says yet.
  if (last_sqlstate_.empty()) broken_ = true;
  return PostgresStatus(last_sqlstate_, detail, absl::StrCat("executing ", sql));
}

std::string PostgresPlaceholders(const char* sql) {
  std::string out;
  char quote = '\0';  // The quote character of the string or identifier being copied, if any.
  for (const char* p = sql; *p != '\0'; ++p) {
    if (quote != '\0') {
      if (*p == quote) quote = '\0';  // A doubled quote closes and reopens: the same result.
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
    } else if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
      out.push_back('$');
      continue;
    }
    out.push_back(*p);
  }
  return out;
}

absl::StatusOr<Result> Connection::Execute(const char* sql, absl::Span<const Param> params) {
  std::vector<Oid> types;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const Param& param : params) {
    types.push_back(param.type());
    values.push_back(param.data());
    lengths.push_back(param.size());
    formats.push_back(param.format());
  }
  auto prepared = prepared_.find(sql);
  if (prepared == prepared_.end()) {
    std::string name = absl::StrCat("artd_", prepared_.size());
    absl::StatusOr<Result> done =
        Check(PQprepare(connection_, name.c_str(), PostgresPlaceholders(sql).c_str(), static_cast<int>(params.size()),
                        types.data()),
              sql);
    if (!done.ok()) return done.status();
    prepared = prepared_.emplace(sql, std::move(name)).first;
  }
  return Check(PQexecPrepared(connection_, prepared->second.c_str(), static_cast<int>(params.size()),
                              values.data(), lengths.data(), formats.data(), /*resultFormat=*/1),
               sql);
}

absl::Status Connection::Exec(const char* sql) { return Check(PQexec(connection_, sql), sql).status(); }

// ---- ConnectionPool ----

ConnectionPool::ConnectionPool(std::string url, ConnectOptions options, int max_connections)
    : url_(std::move(url)), options_(options), max_connections_(max_connections < 1 ? 1 : max_connections) {}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &ConnectionPool::HasRoom));
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection), /*reused=*/true);
    }
    ++open_;  // Hold the slot while connecting outside the lock.
  }
  absl::StatusOr<std::unique_ptr<Connection>> opened = Connection::Open(url_, options_);
  if (!opened.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return opened.status();
  }
  return Lease(this, *std::move(opened), /*reused=*/false);
}

void ConnectionPool::DiscardIdle() {
  std::vector<std::unique_ptr<Connection>> discarded;
  {
    absl::MutexLock lock(&mu_);
    open_ -= static_cast<int>(idle_.size());
    discarded.swap(idle_);
  }
  // Closed outside the lock: PQfinish may write to the socket.
}

void ConnectionPool::Release(std::unique_ptr<Connection> connection) {
  // A lost connection is useless, and one left inside a transaction (a failed ROLLBACK) would hold
  // its locks: close either, so a later Acquire opens a fresh one.
  if (connection->Broken() || (connection->InTransaction() && !connection->Exec("ROLLBACK").ok())) {
    connection.reset();
  }
  absl::MutexLock lock(&mu_);
  if (connection == nullptr) {
    --open_;
  } else {
    idle_.push_back(std::move(connection));
  }
}

}  // namespace postgres
}  // namespace artd
