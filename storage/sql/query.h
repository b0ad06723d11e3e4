// Query helpers shared by the SQL backends (SQLite and PostgreSQL). Each backend's connection type
// provides
//   ForEachRow(sql, visit, args...): runs |sql| with |args| bound to ?1..?n and calls visit(row) on
//       each row until visit returns false; |row| has Int, Uint, Uint32, IsNull, Text, BlobString and
//       BlobBytes accessors by column;
//   Run(sql, args...): runs a statement without rows and returns how many rows it changed;
// and binds std::string as text, integers as 64-bit integers and BlobParam as a blob (bytea).
// |sql| must be a string literal: its address keys the connection's prepared-statement cache.
#ifndef STORAGE_SQL_QUERY_H_
#define STORAGE_SQL_QUERY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/crypto/bytes.h"

namespace artd::sql {

// A blob parameter (std::string binds as text, which PostgreSQL checks is UTF-8). Borrows its bytes.
struct BlobParam {
  const void* data;
  size_t size;
};
inline BlobParam AsBlob(const std::string& s) { return {s.data(), s.size()}; }
inline BlobParam AsBlob(const art::Bytes& b) { return {b.data(), b.size()}; }

// Both databases store signed 64-bit integers. Unsigned values above INT64_MAX are clamped when bound,
// which keeps range comparisons ("after N", "expires at N") right; a value stored as a key must be
// refused above this first.
inline constexpr uint64_t kMaxStoredUint = static_cast<uint64_t>(INT64_MAX);

// An integer parameter as it is bound: a signed 64-bit integer, clamped at kMaxStoredUint.
template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
int64_t StoredInt(T value) {
  if constexpr (std::is_unsigned_v<T> && sizeof(T) == sizeof(uint64_t)) {
    return static_cast<int64_t>(value > kMaxStoredUint ? kMaxStoredUint : value);
  } else {
    return static_cast<int64_t>(value);
  }
}

// The first row read by |read|, or nullopt when there is none.
template <typename T, typename Connection, typename Read, typename... Args>
absl::StatusOr<std::optional<T>> QueryOne(Connection& c, const char* sql, Read read, const Args&... args) {
  std::optional<T> first;
  ART_RETURN_IF_ERROR(c.ForEachRow(
      sql,
      [&](const auto& row) {
        first.emplace(read(row));
        return false;
      },
      args...));
  return first;
}

// Every row, each read by |read|.
template <typename T, typename Connection, typename Read, typename... Args>
absl::StatusOr<std::vector<T>> QueryAll(Connection& c, const char* sql, Read read, const Args&... args) {
  std::vector<T> rows;
  ART_RETURN_IF_ERROR(c.ForEachRow(
      sql,
      [&](const auto& row) {
        rows.push_back(read(row));
        return true;
      },
      args...));
  return rows;
}

// The first column of the first row as an integer, or nullopt without a row.
template <typename Connection, typename... Args>
absl::StatusOr<std::optional<int64_t>> QueryInt(Connection& c, const char* sql, const Args&... args) {
  return QueryOne<int64_t>(c, sql, [](const auto& row) { return row.Int(0); }, args...);
}

// Runs an INSERT whose unique violation means something exists already; the error then says what
// (|exists_message|) instead of the database's text.
template <typename Connection, typename... Args>
absl::Status Claim(Connection& c, const std::string& exists_message, const char* sql, const Args&... args) {
  absl::StatusOr<int> inserted = c.Run(sql, args...);
  if (absl::IsAlreadyExists(inserted.status())) return absl::AlreadyExistsError(exists_message);
  return inserted.status();
}

// An identifier as error messages show it.
inline std::string Quote(const std::string& id) { return absl::StrCat("\"", id, "\""); }

}  // namespace artd::sql

#endif  // STORAGE_SQL_QUERY_H_
