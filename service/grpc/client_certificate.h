// Client certificates as tenant credentials: a certificate is named by the SHA-256 fingerprint of its
// DER encoding (what `openssl x509 -noout -fingerprint -sha256` prints), which `artd admin
// bind-client-cert` binds to a tenant.
#ifndef SERVICE_GRPC_CLIENT_CERTIFICATE_H_
#define SERVICE_GRPC_CLIENT_CERTIFICATE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace artd {

// The fingerprint of the first certificate in |pem|; INVALID_ARGUMENT when there is none.
absl::StatusOr<Bytes> CertificateFingerprint(std::string_view pem);

// A fingerprint given as 64 hex digits, with or without ':' between bytes (either case).
absl::StatusOr<Bytes> ParseCertificateFingerprint(std::string_view text);

}  // namespace artd

#endif  // SERVICE_GRPC_CLIENT_CERTIFICATE_H_
