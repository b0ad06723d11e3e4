// Helpers shared by the test-vector generator and the test that checks the vectors: the fixed
// inputs every vector is computed from, hex fields of JSON objects, and the list of vector files.
// docs/test-vectors.md describes the files.
#ifndef ART_VECTORS_VECTOR_UTIL_H_
#define ART_VECTORS_VECTOR_UTIL_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"
#include "nlohmann/json.hpp"

namespace art {
namespace vectors {

// Keeps keys in insertion order, so each file reads inputs first, then outputs.
using Json = nlohmann::ordered_json;

// The format version every vector file carries.
inline constexpr int kVectorVersion = 1;

// Every vector file, without its ".json" suffix.
inline constexpr std::array<std::string_view, 6> kVectorFiles = {
    "tree_math",  "node_derivation", "tree_hash",
    "setup_leaf", "key_schedule",    "message_protection",
};

// A fixed 32-byte input: SHA-256("art test vector " + name + " " + decimal index).
Sha256Digest FixedBytes(std::string_view name, uint32_t index);

// A new vector file object: {"description": description, "version": kVectorVersion}.
Json NewVectorFile(std::string_view description);

// Lower-case hex of |bytes| as a JSON string.
Json HexJson(ByteSpan bytes);

// The bytes of the hex string |value|; |what| names it in errors. INVALID_ARGUMENT when |value| is
// not a hex string.
absl::StatusOr<Bytes> HexValue(const Json& value, std::string_view what);

// The bytes of the hex string |object[key]|. INVALID_ARGUMENT when the field is missing, not a
// string or not hex.
absl::StatusOr<Bytes> HexField(const Json& object, std::string_view key);

// Like HexValue and HexField, but the value must be exactly |N| bytes long.
template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> FixedHexValue(const Json& value, std::string_view what);
template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> FixedHexField(const Json& object, std::string_view key) {
  return FixedHexValue<N>(object.is_object() ? object.value(std::string(key), Json()) : Json(),
                          key);
}


// Reads and parses a JSON file.
absl::StatusOr<Json> ReadJsonFile(const std::string& path);

// Writes |value| to |path|, indented by two spaces, with a final newline.
absl::Status WriteJsonFile(const std::string& path, const Json& value);

// --- Template implementation ---

absl::Status CheckFieldSize(std::string_view what, size_t expected, size_t actual);

template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> FixedHexValue(const Json& value, std::string_view what) {
  absl::StatusOr<Bytes> bytes = HexValue(value, what);
  if (!bytes.ok()) return bytes.status();
  absl::Status size_status = CheckFieldSize(what, N, bytes->size());
  if (!size_status.ok()) return size_status;
  std::array<uint8_t, N> result;
  std::copy(bytes->begin(), bytes->end(), result.begin());
  return result;
}

}  // namespace vectors
}  // namespace art

#endif  // ART_VECTORS_VECTOR_UTIL_H_
