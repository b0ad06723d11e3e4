#include "art/crypto/aead.h"

#include <openssl/evp.h>
#if defined(OPENSSL_IS_BORINGSSL)
#include <openssl/aead.h>
#endif

#include <algorithm>

#include "art/crypto/backend_internal.h"

namespace art {
namespace {

using crypto_internal::DataOrEmpty;

// Checks the sizes both functions share; INVALID_ARGUMENT names the wrong one.
absl::Status CheckKeyAndNonce(ByteSpan key, ByteSpan nonce) {
  if (key.size() != kAes256GcmKeySize) {
    return absl::InvalidArgumentError("AES-256-GCM: key must be 32 bytes");
  }
  if (nonce.size() != kAes256GcmNonceSize) {
    return absl::InvalidArgumentError("AES-256-GCM: nonce must be 12 bytes");
  }
  return absl::OkStatus();
}

#if defined(OPENSSL_IS_BORINGSSL)

// EVP_AEAD_CTX on the stack, cleaned up (its key schedule wiped) on every path.
class AeadContext {
 public:
  AeadContext() { EVP_AEAD_CTX_zero(&context_); }
  ~AeadContext() { EVP_AEAD_CTX_cleanup(&context_); }
  AeadContext(const AeadContext&) = delete;
  AeadContext& operator=(const AeadContext&) = delete;

  bool Init(ByteSpan key) {
    return EVP_AEAD_CTX_init(&context_, EVP_aead_aes_256_gcm(), key.data(), key.size(),
                             kAes256GcmTagSize, nullptr) == 1;
  }
  const EVP_AEAD_CTX* get() const { return &context_; }

 private:
  EVP_AEAD_CTX context_;
};

bool SealWithBackend(ByteSpan key, ByteSpan nonce, ByteSpan additional_data, ByteSpan plaintext,
                     absl::Span<uint8_t> out) {
  AeadContext context;
  size_t out_size = 0;
  return context.Init(key) &&
         EVP_AEAD_CTX_seal(context.get(), out.data(), &out_size, out.size(), nonce.data(),
                           nonce.size(), DataOrEmpty(plaintext), plaintext.size(),
                           DataOrEmpty(additional_data), additional_data.size()) == 1 &&
         out_size == out.size();
}

bool OpenWithBackend(ByteSpan key, ByteSpan nonce, ByteSpan additional_data,
                     ByteSpan ciphertext_and_tag, absl::Span<uint8_t> out) {
  AeadContext context;
  size_t out_size = 0;
  return context.Init(key) &&
         EVP_AEAD_CTX_open(context.get(), out.data(), &out_size, out.size(), nonce.data(),
                           nonce.size(), ciphertext_and_tag.data(), ciphertext_and_tag.size(),
                           DataOrEmpty(additional_data), additional_data.size()) == 1 &&
         out_size == out.size();
}

#else

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using UniqueCipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

// Fetched once: EVP_aes_256_gcm() would make every EVP_CipherInit_ex2 fetch it again.
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// Feeds |input| through EVP_CipherUpdate in int-sized pieces (the API takes int lengths). |output|
// is null for additional data.
bool CipherUpdate(EVP_CIPHER_CTX* context, uint8_t* output, ByteSpan input) {
  constexpr size_t kChunkSize = size_t{1} << 30;
  for (size_t offset = 0; offset < input.size(); offset += kChunkSize) {
    const int size = static_cast<int>(std::min(kChunkSize, input.size() - offset));
    int written = 0;
    if (EVP_CipherUpdate(context, output == nullptr ? nullptr : output + offset, &written,
                         input.data() + offset, size) != 1) {
      return false;
    }
  }
  return true;
}

// Runs GCM over |additional_data| and |input| into |output| (same size as |input|); |tag| is read
// when decrypting and written when encrypting.
bool GcmWithBackend(bool encrypt, ByteSpan key, ByteSpan nonce, ByteSpan additional_data,
                    ByteSpan input, uint8_t* output, uint8_t* tag) {
  const EVP_CIPHER* cipher = Aes256Gcm();
  UniqueCipherContext context(EVP_CIPHER_CTX_new());
  if (cipher == nullptr || context == nullptr) return false;
  // GCM's default IV length is 12 bytes, which CheckKeyAndNonce has enforced.
  if (EVP_CipherInit_ex2(context.get(), cipher, key.data(), nonce.data(), encrypt ? 1 : 0,
                         nullptr) != 1 ||
      !CipherUpdate(context.get(), nullptr, additional_data) ||
      !CipherUpdate(context.get(), output, input)) {
    return false;
  }
  if (!encrypt && EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_AEAD_SET_TAG,
                                      static_cast<int>(kAes256GcmTagSize), tag) != 1) {
    return false;
  }
  // GCM is a stream mode: Final writes nothing, and when decrypting it is where the tag is checked.
  uint8_t final_block[EVP_MAX_BLOCK_LENGTH];
  int final_size = 0;
  if (EVP_CipherFinal_ex(context.get(), final_block, &final_size) != 1 || final_size != 0) {
    return false;
  }
  return !encrypt || EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_AEAD_GET_TAG,
                                         static_cast<int>(kAes256GcmTagSize), tag) == 1;
}

bool SealWithBackend(ByteSpan key, ByteSpan nonce, ByteSpan additional_data, ByteSpan plaintext,
                     absl::Span<uint8_t> out) {
  return GcmWithBackend(/*encrypt=*/true, key, nonce, additional_data, plaintext, out.data(),
                        out.data() + plaintext.size());
}

bool OpenWithBackend(ByteSpan key, ByteSpan nonce, ByteSpan additional_data,
                     ByteSpan ciphertext_and_tag, absl::Span<uint8_t> out) {
  const size_t ciphertext_size = ciphertext_and_tag.size() - kAes256GcmTagSize;
  // The tag buffer is only read, but the ctrl API takes a non-const pointer.
  uint8_t tag[kAes256GcmTagSize];
  std::copy_n(ciphertext_and_tag.data() + ciphertext_size, kAes256GcmTagSize, tag);
  return GcmWithBackend(/*encrypt=*/false, key, nonce, additional_data,
                        ciphertext_and_tag.first(ciphertext_size), out.data(), tag);
}

#endif  // OPENSSL_IS_BORINGSSL

}  // namespace

absl::StatusOr<Bytes> Aes256GcmSeal(ByteSpan key, ByteSpan nonce, ByteSpan additional_data,
                                    ByteSpan plaintext) {
  if (absl::Status status = CheckKeyAndNonce(key, nonce); !status.ok()) return status;
  Bytes ciphertext_and_tag(plaintext.size() + kAes256GcmTagSize);
  if (!SealWithBackend(key, nonce, additional_data, plaintext,
                       absl::MakeSpan(ciphertext_and_tag))) {
    return crypto_internal::BackendError(absl::StatusCode::kInternal, "AES-256-GCM seal failed");
  }
  return ciphertext_and_tag;
}

absl::StatusOr<SecretBytes> Aes256GcmOpen(ByteSpan key, ByteSpan nonce, ByteSpan additional_data,
                                          ByteSpan ciphertext_and_tag) {
  if (absl::Status status = CheckKeyAndNonce(key, nonce); !status.ok()) return status;
  if (ciphertext_and_tag.size() < kAes256GcmTagSize) {
    return absl::PermissionDeniedError("AEAD authentication failed");
  }
  // Decrypted straight into SecretBytes, so a failed open wipes what it wrote.
  SecretBytes plaintext(ciphertext_and_tag.size() - kAes256GcmTagSize);
  // An empty vector's data() may be null, which the libraries do not all accept.
  uint8_t empty_output = 0;
  const absl::Span<uint8_t> out =
      plaintext.empty() ? absl::MakeSpan(&empty_output, 0) : plaintext.mutable_span();
  if (!OpenWithBackend(key, nonce, additional_data, ciphertext_and_tag, out)) {
    plaintext.Wipe();
    return crypto_internal::BackendError(absl::StatusCode::kPermissionDenied,
                                         "AEAD authentication failed");
  }
  return plaintext;
}

}  // namespace art
