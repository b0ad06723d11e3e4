#include "tests/faults/fault_helpers.h"

#include <sqlite3.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "art/base/status_macros.h"

namespace artd::testing {
namespace {

absl::Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

// Opens |path|, which must exist, waiting up to 10 s for locks another process holds.
absl::StatusOr<sqlite3*> OpenExisting(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status error = SqliteError(db, rc, absl::StrCat("opening ", path));
    sqlite3_close(db);
    return error;
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

}  // namespace

absl::Status AwaitOk(const std::function<absl::Status()>& call, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(5);
  for (;;) {
    absl::Status status = call();
    if (status.ok() || absl::Now() + backoff > deadline) return status;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(200));
  }
}

absl::Status CheckWritesResume(const TenantClient& client, Seat& writer, Seat& reader, Acknowledged& all,
                               const std::string& uploader, absl::Duration timeout) {
  int attempt = 0;
  ART_RETURN_IF_ERROR(
      AwaitOk([&] { return NewMember(client, absl::StrCat("writes-again-", attempt++)).status(); }, timeout));
  ART_RETURN_IF_ERROR(WriteMore(client, writer, 20, 6, all));
  ART_RETURN_IF_ERROR(CheckOneHistory(client, writer, reader, all));
  return TakeOneTimePrekey(client, uploader);
}

absl::Status CheckSqliteIntegrity(const std::string& path) {
  absl::StatusOr<sqlite3*> db = OpenExisting(path);
  if (!db.ok()) return db.status();
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(*db, "PRAGMA integrity_check", -1, &statement, nullptr);
  std::string report;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      absl::StrAppend(&report, report.empty() ? "" : "; ",
                      reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
    }
  }
  absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(*db, rc, "PRAGMA integrity_check");
  sqlite3_finalize(statement);
  sqlite3_close(*db);
  if (!status.ok()) return status;
  if (report != "ok") return absl::DataLossError(absl::StrCat(path, " fails its integrity check: ", report));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SqliteWriteLock>> SqliteWriteLock::Acquire(const std::string& path) {
  absl::StatusOr<sqlite3*> db = OpenExisting(path);
  if (!db.ok()) return db.status();
  const int rc = sqlite3_exec(*db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status error = SqliteError(*db, rc, "BEGIN EXCLUSIVE");
    sqlite3_close(*db);
    return error;
  }
  return std::unique_ptr<SqliteWriteLock>(new SqliteWriteLock(*db));
}

SqliteWriteLock::~SqliteWriteLock() { Release().IgnoreError(); }

absl::Status SqliteWriteLock::Release() {
  if (db_ == nullptr) return absl::OkStatus();
  const int rc = sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  absl::Status status = rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc, "ROLLBACK");
  sqlite3_close(db_);
  db_ = nullptr;
  return status;
}

}  // namespace artd::testing
