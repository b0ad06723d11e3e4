// What the fault tests share: awaiting a service that recovers by itself, and looking at an SQLite database
// from outside the server that uses it (as another process on the machine would).
#ifndef TESTS_FAULTS_FAULT_HELPERS_H_
#define TESTS_FAULTS_FAULT_HELPERS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/process/acknowledged_writer.h"

struct sqlite3;

namespace artd::testing {

// Calls |call| until it returns OK, backing off between calls (a remote condition, so it is polled); returns
// its last failure once |timeout| has passed.
absl::Status AwaitOk(const std::function<absl::Status()>& call, absl::Duration timeout);

// After a fault that stopped a server's writes has passed, the same server recovers by itself: awaits
// the first write it accepts again (a new member publishing itself, within |timeout|), has |writer|
// write more, then checks that nothing in |all| is lost and the group has one history (with |reader|,
// CheckOneHistory), and that a one-time prekey |uploader| uploaded before the fault is handed out.
absl::Status CheckWritesResume(const TenantClient& client, Seat& writer, Seat& reader, Acknowledged& all,
                               const std::string& uploader, absl::Duration timeout);

// Runs PRAGMA integrity_check on the SQLite database |path|, through a connection of this process, alongside
// any server using it: OK when SQLite finds nothing wrong, DATA_LOSS quoting its report otherwise.
absl::Status CheckSqliteIntegrity(const std::string& path);

// A transaction that holds an SQLite database's write lock (BEGIN EXCLUSIVE) from this process: the database
// is unavailable for writing to every other process until Release. Under WAL, readers go on reading.
class SqliteWriteLock {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteWriteLock>> Acquire(const std::string& path);
  SqliteWriteLock(const SqliteWriteLock&) = delete;
  SqliteWriteLock& operator=(const SqliteWriteLock&) = delete;
  // Releases the lock if it is still held.
  ~SqliteWriteLock();

  // Ends the transaction (ROLLBACK: it wrote nothing) and closes the connection.
  absl::Status Release();

 private:
  explicit SqliteWriteLock(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace artd::testing

#endif  // TESTS_FAULTS_FAULT_HELPERS_H_
