// Early-return helpers for absl::Status and absl::StatusOr (Abseil 20220623 does not ship them), and
// StatusOf for code generic over both.
#ifndef ART_BASE_STATUS_MACROS_H_
#define ART_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns |expression|'s status from the enclosing function if it is not OK.
#define ART_RETURN_IF_ERROR(expression)                     \
  do {                                                      \
    ::absl::Status art_status_internal = (expression);      \
    if (!art_status_internal.ok()) return art_status_internal; \
  } while (false)

#define ART_STATUS_MACROS_CONCAT_INNER(a, b) a##b
#define ART_STATUS_MACROS_CONCAT(a, b) ART_STATUS_MACROS_CONCAT_INNER(a, b)

// Evaluates |expression| (a StatusOr); returns its status if not OK, else moves its value into
// |declaration| (e.g. `auto key` or an existing variable).
#define ART_ASSIGN_OR_RETURN(declaration, expression) \
  ART_ASSIGN_OR_RETURN_IMPL(ART_STATUS_MACROS_CONCAT(art_statusor_, __LINE__), declaration, expression)

#define ART_ASSIGN_OR_RETURN_IMPL(statusor, declaration, expression) \
  auto statusor = (expression);                                      \
  if (!statusor.ok()) return statusor.status();                      \
  declaration = std::move(statusor).value()

namespace art {

// The status of an absl::Status or absl::StatusOr, for code generic over both.
inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace art

#endif  // ART_BASE_STATUS_MACROS_H_
