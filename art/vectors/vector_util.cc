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

absl::StatusOr<Bytes> HexValue(const Json& value, std::string_view what) {
  Bytes bytes;
  if (!value.is_string() || !FromHex(value.get<std::string>(), &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " is not a hex string"));
  }
  return bytes;
}

absl::StatusOr<Bytes> HexField(const Json& object, std::string_view key) {
  const std::string name(key);
  if (!object.is_object() || !object.contains(name)) {
    return absl::InvalidArgumentError(absl::StrCat("missing field \"", name, "\""));
  }
  return HexValue(object[name], absl::StrCat("field \"", name, "\""));
}

absl::Status CheckFieldSize(std::string_view what, size_t expected, size_t actual) {
  if (expected == actual) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(what), " has ", actual, " bytes, expected ", expected));
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
