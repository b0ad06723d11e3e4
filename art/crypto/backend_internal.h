// Helpers for the sources that both backends compile (random.cc, hash.cc, aead.cc, x25519.cc,
// ed25519.cc). Internal to art/crypto.
#ifndef ART_CRYPTO_BACKEND_INTERNAL_H_
#define ART_CRYPTO_BACKEND_INTERNAL_H_

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "art/crypto/bytes.h"
#include "art/crypto/random.h"
#include "art/crypto/secret_bytes.h"

// The BUILD file says which backend a target is; the headers found must agree, or the BoringSSL
// target would silently compile against OpenSSL's headers (the -isystem path is missing).
#if defined(ART_CRYPTO_BORINGSSL) != defined(OPENSSL_IS_BORINGSSL)
#error "art/crypto: ART_CRYPTO_BORINGSSL and the <openssl/...> headers found disagree"
#endif
#if !defined(OPENSSL_IS_BORINGSSL) && OPENSSL_VERSION_MAJOR < 3
#error "art/crypto needs OpenSSL 3 (EVP_KDF, EVP_PKEY_derive_set_peer_ex)"
#endif

namespace art::crypto_internal {

// Either library may reject a null pointer even with a zero length, and an empty span's data() can
// be null.
inline const uint8_t* DataOrEmpty(ByteSpan bytes) {
  static constexpr uint8_t kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
}

// A failed call leaves entries on the thread's error queue, where other users of the library in the
// same thread (gRPC's TLS) would find them; this drops them and returns |code| with |message|.
absl::Status BackendError(absl::StatusCode code, absl::string_view message);

// For calls that fail only when memory is exhausted and whose API has no error path: aborts.
[[noreturn]] void BackendFailure(const char* what);

// True if the |size|-byte little-endian numbers satisfy value < bound. For public values only: not
// constant time.
bool IsLessThanLittleEndian(const uint8_t* value, const uint8_t* bound, size_t size);

// 2^255 - 19, little-endian: the field prime of both X25519 and Ed25519.
// clang-format off
inline constexpr uint8_t kCurve25519Prime[32] = {
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
// clang-format on

// unique_ptr for the EVP objects both libraries share.
struct EvpDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using UniqueEvpPkey = std::unique_ptr<EVP_PKEY, EvpDeleter>;
using UniqueEvpPkeyContext = std::unique_ptr<EVP_PKEY_CTX, EvpDeleter>;
using UniqueEvpMdContext = std::unique_ptr<EVP_MD_CTX, EvpDeleter>;

// Generate() of both key classes: |size| fresh random bytes handed to |from_secret|.
template <typename Key>
absl::StatusOr<Key> FromRandomSecret(size_t size, absl::StatusOr<Key> (*from_secret)(ByteSpan)) {
  absl::StatusOr<SecretBytes> secret = RandomSecret(size);
  if (!secret.ok()) return secret.status();
  return from_secret(secret->span());
}

// What a moved-from key returns for its secret: it holds none.
const SecretBytes& EmptySecretBytes();

#if !defined(OPENSSL_IS_BORINGSSL)
// Builds an EVP_PKEY of |type| (EVP_PKEY_X25519 or EVP_PKEY_ED25519) from its raw private key, and
// writes the public key that OpenSSL computes from it into |public_key| (32 bytes).
absl::StatusOr<UniqueEvpPkey> NewRawPrivateKey(int type, ByteSpan private_key,
                                               absl::Span<uint8_t> public_key);

// An EVP_PKEY of |type| (EVP_PKEY_X25519 or EVP_PKEY_ED25519) holding the raw |public_key|, or null.
// Thread-safe, and cheaper than EVP_PKEY_new_raw_public_key, which fetches the algorithm every call.
UniqueEvpPkey NewRawPublicKey(int type, ByteSpan public_key);
#endif

}  // namespace art::crypto_internal

#endif  // ART_CRYPTO_BACKEND_INTERNAL_H_
