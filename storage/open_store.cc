#include "storage/open_store.h"

#include "absl/strings/match.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace artd {

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& database) {
  // libpq accepts both URL schemes. Case-insensitive, as URL schemes are.
  if (absl::StartsWithIgnoreCase(database, "postgres://") || absl::StartsWithIgnoreCase(database, "postgresql://")) {
    return OpenPostgresStore(database);
  }
  return OpenSqliteStore(database);
}

}  // namespace artd
