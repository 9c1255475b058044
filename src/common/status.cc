#include "common/status.h"

namespace aic {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kAlreadyExists:
      return "already exists";
    case Code::kConflict:
      return "conflict";
    case Code::kGone:
      return "gone";
    case Code::kUnprocessable:
      return "invalid";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kPermissionDenied:
      return "forbidden";
    case Code::kTooManyRequests:
      return "too many requests";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kDeadlineExceeded:
      return "deadline exceeded";
    case Code::kCancelled:
      return "cancelled";
    case Code::kFailedPrecondition:
      return "failed precondition";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

Code CodeForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 408:
      return Code::kUnavailable;
    case 409:
      return Code::kConflict;
    case 410:
      return Code::kGone;
    case 422:
      return Code::kUnprocessable;
    case 429:
      return Code::kTooManyRequests;
    default:
      break;
  }
  if (http_status >= 500 && http_status <= 599) return Code::kUnavailable;
  if (http_status >= 400 && http_status <= 499) return Code::kFailedPrecondition;
  return Code::kInternal;
}

Status Status::Prefixed(std::string_view context) const {
  Status copy = *this;
  copy.message_ = fmt::format("{}: {}", context, message_);
  return copy;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return message_.empty() ? CodeName(code_) : message_;
}

}  // namespace aic
