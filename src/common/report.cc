#include "common/report.h"

#include <iostream>

#include "common/log.h"

namespace aic {

int ReportError(const std::string& message, int code) {
  std::cerr << "aiconform: error: " << log::Redact(message) << "\n";
  return code;
}

}  // namespace aic
