#include "art/crypto/ed25519.h"

#include <openssl/evp.h>
#if defined(OPENSSL_IS_BORINGSSL)
#include <openssl/curve25519.h>
#else
#include <sodium.h>
#endif

#include <cstring>
#include <mutex>

#include "art/crypto/backend_internal.h"

namespace art {
namespace {

// The y-coordinates (little-endian, sign bit clear) of the 8 points of small order. Compared with
// the sign bit of x masked off, they match the 8 small-order encodings and also the two
// non-canonical "negative zero" encodings of x = 0 (y = 1 and y = p - 1 with the sign bit set).
// clang-format off
constexpr uint8_t kSmallOrderY[][kEd25519PublicKeySize] = {
  // y = 0: the two points of order 4, x = +-sqrt(-1).
  {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
  // y = 1: the identity.
  {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
  // y = p - 1: the point of order 2.
  {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
  // Two points of order 8.
  {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
   0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
  // The other two points of order 8.
  {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
   0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};
// clang-format on

// L = 2^252 + 27742317777372353535851937790883648493, the group order, little-endian.
// clang-format off
constexpr uint8_t kGroupOrder[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
// clang-format on

// True if |encoding| (a point: y with the sign of x in the top bit) has a canonical y (< p) and is
// not a point of small order. Whether it is on the curve at all is left to the backend's decoding.
bool IsCanonicalAndNotSmallOrder(const uint8_t* encoding) {
  uint8_t y[kEd25519PublicKeySize];
  std::memcpy(y, encoding, sizeof(y));
  y[31] &= 0x7f;
  if (!crypto_internal::IsLessThanLittleEndian(y, crypto_internal::kCurve25519Prime, sizeof(y))) {
    return false;
  }
  for (const auto& small_order_y : kSmallOrderY) {
    if (std::memcmp(y, small_order_y, sizeof(y)) == 0) return false;
  }
  return true;
}

}  // namespace

struct Ed25519PrivateKey::Impl {
  SecretBytes seed;
#if defined(OPENSSL_IS_BORINGSSL)
  // ED25519_sign takes the expanded form, built once.
  SecretBytes private_key;
#else
  // Built once from the seed; EVP_PKEY is reference counted and safe to sign with from several
  // threads at once.
  crypto_internal::UniqueEvpPkey key;
#endif
};

namespace {

#if defined(OPENSSL_IS_BORINGSSL)

constexpr size_t kEd25519PrivateKeySize = 64;  // BoringSSL's seed || public key.

absl::StatusOr<std::shared_ptr<const Ed25519PrivateKey::Impl>> MakeImpl(
    ByteSpan seed, Ed25519PublicKey* public_key) {
  auto impl = std::make_shared<Ed25519PrivateKey::Impl>();
  impl->seed = SecretBytes(seed);
  impl->private_key = SecretBytes(kEd25519PrivateKeySize);
  ED25519_keypair_from_seed(public_key->data(), impl->private_key.data(), seed.data());
  return impl;
}

bool SignWithBackend(const Ed25519PrivateKey::Impl& impl, ByteSpan message,
                     Ed25519Signature* signature) {
  return ED25519_sign(signature->data(), crypto_internal::DataOrEmpty(message), message.size(),
                      impl.private_key.data()) == 1;
}

// The strict checks are done by the caller; this is the plain RFC 8032 equation.
bool VerifyWithBackend(ByteSpan public_key, ByteSpan message, ByteSpan signature) {
  return ED25519_verify(crypto_internal::DataOrEmpty(message), message.size(), signature.data(),
                        public_key.data()) == 1;
}

#else

absl::StatusOr<std::shared_ptr<const Ed25519PrivateKey::Impl>> MakeImpl(
    ByteSpan seed, Ed25519PublicKey* public_key) {
  auto impl = std::make_shared<Ed25519PrivateKey::Impl>();
  impl->seed = SecretBytes(seed);
  absl::StatusOr<crypto_internal::UniqueEvpPkey> key =
      crypto_internal::NewRawPrivateKey(EVP_PKEY_ED25519, seed, absl::MakeSpan(*public_key));
  if (!key.ok()) return key.status();
  impl->key = *std::move(key);
  return impl;
}

bool SignWithBackend(const Ed25519PrivateKey::Impl& impl, ByteSpan message,
                     Ed25519Signature* signature) {
  crypto_internal::UniqueEvpMdContext context(EVP_MD_CTX_new());
  size_t signature_size = signature->size();
  // Ed25519 hashes internally: the digest argument must be null.
  return context != nullptr &&
         EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, impl.key.get()) == 1 &&
         EVP_DigestSign(context.get(), signature->data(), &signature_size,
                        crypto_internal::DataOrEmpty(message), message.size()) == 1 &&
         signature_size == kEd25519SignatureSize;
}

// Verification is the hot path (a setup checks three signatures per member; every commit and
// request is checked), and OpenSSL 3.0's Ed25519 is generic C: about 190 us per verification here
// against 60 us for libsodium's (Debian's libsodium), so libsodium verifies. Its own checks (canonical
// S, A and R; no small order) are no weaker than ours, which run first anyway. OpenSSL still signs.
bool VerifyWithBackend(ByteSpan public_key, ByteSpan message, ByteSpan signature) {
  static std::once_flag initialized;
  static bool sodium_ready = false;
  std::call_once(initialized, [] { sodium_ready = sodium_init() >= 0; });
  return sodium_ready && signature.size() == crypto_sign_BYTES &&
         public_key.size() == crypto_sign_PUBLICKEYBYTES &&
         crypto_sign_verify_detached(signature.data(), crypto_internal::DataOrEmpty(message),
                                     message.size(), public_key.data()) == 0;
}

#endif  // OPENSSL_IS_BORINGSSL

}  // namespace

absl::Status ValidateEd25519PublicKey(ByteSpan public_key) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  }
  if (!IsCanonicalAndNotSmallOrder(public_key.data())) {
    return absl::InvalidArgumentError(
        "Ed25519 public key is not canonical or is a point of small order");
  }
  return absl::OkStatus();
}

absl::Status Ed25519Verify(ByteSpan public_key, ByteSpan message, ByteSpan signature) {
  if (absl::Status status = ValidateEd25519PublicKey(public_key); !status.ok()) return status;
  if (signature.size() != kEd25519SignatureSize) {
    return absl::InvalidArgumentError("Ed25519 signature must be 64 bytes");
  }
  // Our strict rule on top of RFC 8032, so that both backends accept exactly the same signatures:
  // S < L (no malleable twin signatures) and R canonical and not of small order.
  const uint8_t* r = signature.data();
  const uint8_t* s = signature.data() + 32;
  if (!crypto_internal::IsLessThanLittleEndian(s, kGroupOrder, sizeof(kGroupOrder)) ||
      !IsCanonicalAndNotSmallOrder(r) || !VerifyWithBackend(public_key, message, signature)) {
    return crypto_internal::BackendError(absl::StatusCode::kPermissionDenied,
                                         "Ed25519 signature is invalid");
  }
  return absl::OkStatus();
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  return crypto_internal::FromRandomSecret(kEd25519SeedSize, &FromSeed);
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteSpan seed) {
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  }
  Ed25519PublicKey public_key;
  absl::StatusOr<std::shared_ptr<const Impl>> impl = MakeImpl(seed, &public_key);
  if (!impl.ok()) return impl.status();
  return Ed25519PrivateKey(*std::move(impl), public_key);
}

const SecretBytes& Ed25519PrivateKey::seed() const {
  return impl_ != nullptr ? impl_->seed : crypto_internal::EmptySecretBytes();
}

absl::StatusOr<Ed25519Signature> Ed25519PrivateKey::Sign(ByteSpan message) const {
  if (impl_ == nullptr) return absl::FailedPreconditionError("Ed25519: moved-from private key");
  Ed25519Signature signature;
  if (!SignWithBackend(*impl_, message, &signature)) {
    return crypto_internal::BackendError(absl::StatusCode::kInternal, "Ed25519 signing failed");
  }
  return signature;
}

}  // namespace art
