// Opens the service's store from one database setting, so a deployment picks its backend by
// configuration alone: a postgres:// or postgresql:// URL is a PostgreSQL database (for replicas),
// anything else the path of an SQLite file (the embedded default; ":memory:" for a private one).
#ifndef STORAGE_OPEN_STORE_H_
#define STORAGE_OPEN_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace artd {

// Opens (and migrates) the store |database| names, with each backend's default options.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& database);

}  // namespace artd

#endif  // STORAGE_OPEN_STORE_H_
