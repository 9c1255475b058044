// The one error type of aiconform. Kubernetes Status objects, HTTP, curl, gRPC and ARM
// failures are all mapped into a Status; exceptions never cross a module boundary.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace aic {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // bad input from the user: a file, a field, a flag
  kNotFound,            // 404
  kAlreadyExists,       // 409 with reason AlreadyExists
  kConflict,            // 409 otherwise (resourceVersion, apply conflicts)
  kGone,                // 410: a watch's resourceVersion is too old
  kUnprocessable,       // 422: the server rejected the object
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kTooManyRequests,     // 429
  kUnavailable,         // connection failures, 5xx
  kDeadlineExceeded,    // the call's deadline passed
  kCancelled,           // the caller cancelled
  kFailedPrecondition,  // the system is not in a state that allows the call
  kInternal,            // a bug or an unexpected answer
};

const char* CodeName(Code code);

// The Code of an HTTP error status, as both Kubernetes and ARM use them: 408 and 5xx are
// unavailable (worth retrying), 4xx without a code of their own are failed preconditions.
Code CodeForHttp(int http_status);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The HTTP status code and the server's machine-readable reason, when the error came from
  // a server (Kubernetes Status.reason, ARM error.code).
  int http_status() const { return http_status_; }
  const std::string& reason() const { return reason_; }
  Status& WithHttp(int http_status, std::string reason) {
    http_status_ = http_status;
    reason_ = std::move(reason);
    return *this;
  }

  // Seconds the server asked the caller to wait before retrying (Retry-After), or 0.
  int retry_after_seconds() const { return retry_after_seconds_; }
  Status& WithRetryAfter(int seconds) {
    retry_after_seconds_ = seconds;
    return *this;
  }

  // Returns a copy whose message is "context: message".
  Status Prefixed(std::string_view context) const;

  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  int http_status_ = 0;
  std::string reason_;
  int retry_after_seconds_ = 0;
};

template <typename... Args>
Status Error(Code code, fmt::format_string<Args...> format, Args&&... args) {
  return Status(code, fmt::format(format, std::forward<Args>(args)...));
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(value_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(value_);
  }

  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace aic

// Returns early from a function that returns a Status or a Result when `expr` failed.
#define AIC_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::aic::Status aic_status_ = (expr);        \
    if (!aic_status_.ok()) return aic_status_; \
  } while (0)

#define AIC_CONCAT_INNER(a, b) a##b
#define AIC_CONCAT(a, b) AIC_CONCAT_INNER(a, b)
#define AIC_ASSIGN_OR_RETURN(lhs, expr) \
  AIC_ASSIGN_OR_RETURN_IMPL(AIC_CONCAT(aic_result_, __LINE__), lhs, expr)
#define AIC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
