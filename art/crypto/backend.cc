#include "art/crypto/backend.h"

#include <openssl/err.h>
#if !defined(OPENSSL_IS_BORINGSSL)
#include <openssl/core_names.h>
#include <openssl/params.h>
#endif

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

UniqueEvpPkey NewRawPublicKey(int type, ByteSpan public_key) {
  // Key-import contexts, made once per type. An import initialises the context it runs on, so each
  // call imports with a duplicate (duplicating only reads the template).
  static const EVP_PKEY_CTX* const x25519 = EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr);
  static const EVP_PKEY_CTX* const ed25519 =
      EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr);
  const EVP_PKEY_CTX* import_template = type == EVP_PKEY_X25519 ? x25519 : ed25519;
  if (import_template == nullptr) return nullptr;
  UniqueEvpPkeyContext context(EVP_PKEY_CTX_dup(import_template));
  // OSSL_PARAM holds non-const pointers but the import only reads the key.
  OSSL_PARAM parameters[] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<uint8_t*>(public_key.data()), public_key.size()),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* key = nullptr;
  if (context == nullptr || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, parameters) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return UniqueEvpPkey(key);
}
#endif

}  // namespace crypto_internal
}  // namespace art
