#include "service/observability/log_line.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace artd::observability {
namespace {

// JSON string escaping (RFC 8259): quote, backslash and control characters.
void AppendJsonString(std::string* out, std::string_view value) {
  out->push_back('"');
  for (char c : value) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned char>(c));
          out->append(escaped);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Text values are quoted (JSON-style) only when they would not read back as one token.
void AppendTextValue(std::string* out, std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \"\\=\t\r\n") == std::string_view::npos;
  if (plain) {
    out->append(value.data(), value.size());
  } else {
    AppendJsonString(out, value);
  }
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "json") return LogFormat::kJson;
  if (name == "text") return LogFormat::kText;
  return absl::InvalidArgumentError(absl::StrCat("log format must be json or text, not \"", std::string(name), "\""));
}

LogLine::LogLine(LogFormat format, std::string_view level, absl::Time time) : format_(format) {
  line_.reserve(256);
  if (format_ == LogFormat::kJson) line_.push_back('{');
  Add("time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone()));
  Add("level", level);
}

void LogLine::AddKey(std::string_view key) {
  if (format_ == LogFormat::kJson) {
    if (line_.size() > 1) line_.push_back(',');
    line_.push_back('"');
    line_.append(key.data(), key.size());
    line_.append("\":");
  } else {
    if (!line_.empty()) line_.push_back(' ');
    line_.append(key.data(), key.size());
    line_.push_back('=');
  }
}

LogLine& LogLine::Add(std::string_view key, std::string_view value) {
  AddKey(key);
  if (format_ == LogFormat::kJson) {
    AppendJsonString(&line_, value);
  } else {
    AppendTextValue(&line_, value);
  }
  return *this;
}

LogLine& LogLine::Add(std::string_view key, int64_t value) {
  AddKey(key);
  absl::StrAppend(&line_, value);
  return *this;
}

LogLine& LogLine::AddFixed3(std::string_view key, double value) {
  AddKey(key);
  char formatted[32];
  std::snprintf(formatted, sizeof(formatted), "%.3f", value);
  line_.append(formatted);
  return *this;
}

std::string LogLine::Finish() {
  if (format_ == LogFormat::kJson) line_.push_back('}');
  line_.push_back('\n');
  return std::move(line_);
}

}  // namespace artd::observability
