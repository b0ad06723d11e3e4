#include "art/crypto/hash.h"

#include <openssl/hmac.h>
#if defined(OPENSSL_IS_BORINGSSL)
#include <openssl/hkdf.h>
#else
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#endif

#include "art/crypto/backend_internal.h"

namespace art {
namespace {

using crypto_internal::DataOrEmpty;

constexpr size_t kSha256BlockSize = 64;

#if defined(OPENSSL_IS_BORINGSSL)

const EVP_MD* Sha256Algorithm() { return EVP_sha256(); }

bool HkdfExpandWithBackend(ByteSpan pseudorandom_key, ByteSpan info, absl::Span<uint8_t> out) {
  return HKDF_expand(out.data(), out.size(), Sha256Algorithm(), pseudorandom_key.data(),
                     pseudorandom_key.size(), DataOrEmpty(info), info.size()) == 1;
}

#else

// Fetched once: OpenSSL 3's SHA256(), and EVP_sha256() in EVP_Digest, fetch the implementation on
// every call, which doubles the cost of hashing 64 bytes. EVP_MD is immutable and shareable across
// threads.
const EVP_MD* Sha256Algorithm() {
  static const EVP_MD* const algorithm = EVP_MD_fetch(nullptr, OSSL_DIGEST_NAME_SHA2_256, nullptr);
  return algorithm;
}

// Fetched once, like the digest. Only the EVP_KDF_CTX is per call.
EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* const algorithm = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
  return algorithm;
}

bool HkdfExpandWithBackend(ByteSpan pseudorandom_key, ByteSpan info, absl::Span<uint8_t> out) {
  EVP_KDF* algorithm = HkdfAlgorithm();
  if (algorithm == nullptr) return false;
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> context(EVP_KDF_CTX_new(algorithm),
                                                                    &EVP_KDF_CTX_free);
  if (context == nullptr) return false;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  char digest[] = OSSL_DIGEST_NAME_SHA2_256;
  // OSSL_PARAM holds non-const pointers but the KDF only reads the key and info.
  const OSSL_PARAM parameters[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<uint8_t*>(pseudorandom_key.data()),
                                        pseudorandom_key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                        const_cast<uint8_t*>(DataOrEmpty(info)), info.size()),
      OSSL_PARAM_construct_end(),
  };
  return EVP_KDF_derive(context.get(), out.data(), out.size(), parameters) == 1;
}

#endif  // OPENSSL_IS_BORINGSSL

}  // namespace

Sha256Digest Sha256(ByteSpan data) {
  Sha256Digest digest;
  unsigned int digest_size = 0;
  if (EVP_Digest(DataOrEmpty(data), data.size(), digest.data(), &digest_size, Sha256Algorithm(),
                 nullptr) != 1 ||
      digest_size != kSha256Size) {
    crypto_internal::BackendFailure("SHA-256");
  }
  return digest;
}

SecretBytes HmacSha256(ByteSpan key, ByteSpan data) {
  // RFC 2104 hashes a key longer than the block; doing it here also keeps the key length within
  // OpenSSL's int parameter.
  Sha256Digest hashed_key{};
  if (key.size() > kSha256BlockSize) {
    hashed_key = Sha256(key);
    key = ByteSpan(hashed_key);
  }
  SecretBytes tag(kSha256Size);
  unsigned int tag_size = 0;
  if (HMAC(Sha256Algorithm(), DataOrEmpty(key), static_cast<int>(key.size()), DataOrEmpty(data),
           data.size(), tag.data(), &tag_size) == nullptr ||
      tag_size != kSha256Size) {
    crypto_internal::BackendFailure("HMAC-SHA256");
  }
  SecureWipe(hashed_key.data(), hashed_key.size());
  return tag;
}

SecretBytes HkdfExtract(ByteSpan salt, ByteSpan input_key_material) {
  // RFC 5869 section 2.2 defines PRK = HMAC-Hash(salt, IKM); HMAC pads a key with zeros to the
  // block size, so an empty salt already acts as HashLen zero bytes.
  return HmacSha256(salt, input_key_material);
}

absl::StatusOr<SecretBytes> HkdfExpand(ByteSpan pseudorandom_key, ByteSpan info, size_t length) {
  if (pseudorandom_key.size() < kSha256Size) {
    return absl::InvalidArgumentError("HKDF-Expand: pseudorandom key shorter than 32 bytes");
  }
  if (length > 255 * kSha256Size) {
    return absl::InvalidArgumentError("HKDF-Expand: length exceeds 255 * 32 bytes");
  }
  SecretBytes output(length);
  // RFC 5869 allows an empty output; OpenSSL's KDF refuses one.
  if (length == 0) return output;
  if (!HkdfExpandWithBackend(pseudorandom_key, info, output.mutable_span())) {
    return crypto_internal::BackendError(absl::StatusCode::kInternal, "HKDF-Expand failed");
  }
  return output;
}

}  // namespace art
