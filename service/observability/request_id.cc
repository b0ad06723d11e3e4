#include "service/observability/request_id.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"

namespace artd::observability {

bool IsWellFormedRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local absl::BitGen generator;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = absl::Uniform<uint64_t>(generator);
    for (int i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kHex[bits & 0xf];
  }
  return id;
}

}  // namespace artd::observability
