// Test helper: a decrypted payload as text, to compare with what was sent.
#ifndef BENCH_BASELINES_TEST_TEXT_H_
#define BENCH_BASELINES_TEST_TEXT_H_

#include <string>

#include "art/crypto/secret_bytes.h"

namespace art::baselines {

inline std::string Text(const SecretBytes& bytes) {
  return std::string(bytes.data(), bytes.data() + bytes.size());
}

}  // namespace art::baselines

#endif  // BENCH_BASELINES_TEST_TEXT_H_
