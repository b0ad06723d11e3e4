// Request ids: each call gets one, echoed to the client as response metadata "x-request-id" and
// written in its access log line, so a client's report can be matched to the server's log.
#ifndef SERVICE_OBSERVABILITY_REQUEST_ID_H_
#define SERVICE_OBSERVABILITY_REQUEST_ID_H_

#include <string>
#include <string_view>

namespace artd::observability {

inline constexpr char kRequestIdMetadata[] = "x-request-id";

// Whether a client-sent id may be adopted: 1 to 64 characters of [A-Za-z0-9._-] (so it is safe in
// logs and cannot carry much else).
bool IsWellFormedRequestId(std::string_view id);

// A fresh id: 32 lowercase hex digits from a per-thread random generator (not a secret).
std::string NewRequestId();

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_REQUEST_ID_H_
