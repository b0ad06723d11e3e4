#include "service/grpc/client_certificate.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include <memory>

#include "art/crypto/bytes.h"
#include "art/crypto/hash.h"

namespace artd {

absl::StatusOr<Bytes> CertificateFingerprint(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory reading a certificate");
  // The DER bytes as they are (no parse into an X509 and back), so the fingerprint is that of exactly
  // the certificate presented.
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* der = nullptr;
  long der_size = 0;
  while (PEM_read_bio(bio.get(), &name, &header, &der, &der_size) == 1) {
    const bool is_certificate = std::string_view(name) == PEM_STRING_X509;
    Bytes fingerprint;
    if (is_certificate) {
      const art::Sha256Digest digest = art::Sha256(absl::MakeConstSpan(der, static_cast<size_t>(der_size)));
      fingerprint.assign(digest.begin(), digest.end());
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    if (is_certificate) return fingerprint;
  }
  return absl::InvalidArgumentError("no PEM certificate found");
}

absl::StatusOr<Bytes> ParseCertificateFingerprint(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c != ':') hex.push_back(c);
  }
  Bytes fingerprint;
  if (hex.size() != 64 || !art::FromHex(hex, &fingerprint)) {
    return absl::InvalidArgumentError("a certificate fingerprint is 64 hex digits (SHA-256), ':' allowed");
  }
  return fingerprint;
}

}  // namespace artd
