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
