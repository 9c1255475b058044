// How commands end: exit codes scripts may rely on, and the one format of user-facing errors.
#pragma once

#include <string>

namespace aic {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,    // the operation failed
  kExitUsage = 2,      // bad flags or bad input files
  kExitUnhealthy = 3,  // status/verify: reachable but not healthy
  kExitInterrupted = 130,
};

// Prints "aiconform: error: <message>" to stderr, with secrets redacted, and returns `code`.
int ReportError(const std::string& message, int code = kExitFailure);

}  // namespace aic
