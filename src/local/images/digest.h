// SHA-256 digests in the "sha256:<hex>" form OCI descriptors use.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace aic::images {

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Lowercase hex SHA-256 of the file at `path`.
Result<std::string> Sha256File(const std::string& path);

// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` through a temporary file and a rename, so readers never see a
// partial file.
Status WriteFileAtomic(const std::string& path, std::string_view data);

}  // namespace aic::images
