#include "art/vectors/vector_util.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "art/crypto/hash.h"

namespace art {
namespace vectors {

Sha256Digest FixedBytes(std::string_view name, uint32_t index) {
  return Sha256(AsBytes(absl::StrCat("art test vector ", std::string(name), " ", index)));
}

Json NewVectorFile(std::string_view description) {
  return Json{{"description", std::string(description)}, {"version", kVectorVersion}};
}

Json HexJson(ByteSpan bytes) { return ToHex(bytes); }

absl::StatusOr<Bytes> HexField(const Json& object, std::string_view key) {
  const std::string name(key);
  if (!object.is_object() || !object.contains(name) || !object[name].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("missing hex string field \"", name, "\""));
  }
  Bytes bytes;
  if (!FromHex(object[name].get<std::string>(), &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("field \"", name, "\" is not hex"));
  }
  return bytes;
}

absl::Status CheckFieldSize(std::string_view key, size_t expected, size_t actual) {
  if (expected == actual) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("field \"", std::string(key), "\" has ", actual,
                                                 " bytes, expected ", expected));
}

SecretBytes ApplyReuseGuard(const SecretBytes& nonce, ByteSpan reuse_guard) {
  SecretBytes guarded = nonce;
  for (size_t i = 0; i < reuse_guard.size() && i < guarded.size(); ++i) {
    guarded.data()[i] ^= reuse_guard[i];
  }
  return guarded;
}

absl::StatusOr<Json> ReadJsonFile(const std::string& path) {
  std::ifstream input(path);
  if (!input) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  Json value = Json::parse(input, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, " is not JSON"));
  return value;
}

absl::Status WriteJsonFile(const std::string& path, const Json& value) {
  std::ofstream output(path, std::ios::trunc);
  output << value.dump(2) << "\n";
  output.close();
  if (!output) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace vectors
}  // namespace art
