// A writer of POSIX ustar archives held in memory: the layer of an image and the OCI archive
// around it. Entries are deterministic (owner root, mtime 0), so equal inputs give equal bytes
// and equal digests.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace aic::images {

class TarWriter {
 public:
  // `path` is relative ("bin/sh", not "/bin/sh"); paths longer than 100 bytes are split into
  // the ustar prefix field, which fails only when no '/' splits them into 155 + 100 bytes.
  Status AddDirectory(std::string_view path, int mode);
  Status AddFile(std::string_view path, int mode, std::string_view contents);
  Status AddSymlink(std::string_view path, std::string_view target);

  // Appends the two zero blocks that end an archive and returns the bytes written so far.
  std::string Finish();

 private:
  Status AddHeader(std::string_view path, char type, int mode, size_t size,
                   std::string_view link_target);

  std::string out_;
};

}  // namespace aic::images
