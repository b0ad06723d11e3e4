// One structured log line: a time and a level, then key/value fields, rendered as one JSON object
// (the default) or as "key=value" text, always ending in a newline. Callers pass only what may be
// logged: never request bodies, metadata values or key material.
#ifndef SERVICE_OBSERVABILITY_LOG_LINE_H_
#define SERVICE_OBSERVABILITY_LOG_LINE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace artd::observability {

enum class LogFormat { kJson, kText };

// "json" or "text"; INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view name);

class LogLine {
 public:
  // Starts a line with "time" (RFC 3339, UTC, milliseconds) and "level" (e.g. "info", "error").
  LogLine(LogFormat format, std::string_view level, absl::Time time = absl::Now());

  // Appends a field; |key| must be a plain identifier (it is not escaped).
  LogLine& Add(std::string_view key, std::string_view value);
  LogLine& Add(std::string_view key, const char* value) { return Add(key, std::string_view(value)); }
  LogLine& Add(std::string_view key, int64_t value);
  // Rendered with three decimals (durations in milliseconds).
  LogLine& AddFixed3(std::string_view key, double value);

  // The finished line, newline-terminated; call once (the line is moved out).
  std::string Finish();

 private:
  void AddKey(std::string_view key);

  LogFormat format_;
  std::string line_;
};

}  // namespace artd::observability

#endif  // SERVICE_OBSERVABILITY_LOG_LINE_H_
