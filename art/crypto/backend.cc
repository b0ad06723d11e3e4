#include "art/crypto/backend.h"

#include <openssl/err.h>

#include <cstdio>
#include <cstdlib>

#include "art/crypto/backend_internal.h"

namespace art {

std::string_view CryptoBackendName() {
#if defined(OPENSSL_IS_BORINGSSL)
  return "boringssl";
#else
  return "openssl";
#endif
}

std::string_view CryptoBackendVersion() { return OpenSSL_version(OPENSSL_VERSION); }

namespace crypto_internal {

absl::Status BackendError(absl::StatusCode code, absl::string_view message) {
  ERR_clear_error();
  return absl::Status(code, message);
}

void BackendFailure(const char* what) {
  std::fprintf(stderr, "art/crypto: %s failed in %s (out of memory?)\n", what,
               OpenSSL_version(OPENSSL_VERSION));
  std::abort();
}

bool IsLessThanLittleEndian(const uint8_t* value, const uint8_t* bound, size_t size) {
  // Compare from the most significant byte down; the first difference decides.
  for (size_t i = size; i-- > 0;) {
    if (value[i] != bound[i]) return value[i] < bound[i];
  }
  return false;
}

const SecretBytes& EmptySecretBytes() {
  static const SecretBytes* const empty = new SecretBytes();
  return *empty;
}

#if !defined(OPENSSL_IS_BORINGSSL)
absl::StatusOr<UniqueEvpPkey> NewRawPrivateKey(int type, ByteSpan private_key,
                                               absl::Span<uint8_t> public_key) {
  UniqueEvpPkey key(
      EVP_PKEY_new_raw_private_key(type, nullptr, private_key.data(), private_key.size()));
  size_t public_key_size = public_key.size();
  if (key == nullptr ||
      EVP_PKEY_get_raw_public_key(key.get(), public_key.data(), &public_key_size) != 1 ||
      public_key_size != public_key.size()) {
    return BackendError(absl::StatusCode::kInternal, "cannot build a key pair from a private key");
  }
  return key;
}
#endif

}  // namespace crypto_internal
}  // namespace art
