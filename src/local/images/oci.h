// Container images without a registry: an image is described by the files it holds and is
// written as an OCI image archive (oci-layout, index.json, blobs/sha256/...) that
// `ctr images import` and containerd's transfer service accept.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace aic::images {

// One entry of an image's single layer. Parent directories are added implicitly (mode 0755).
struct ImageEntry {
  enum class Kind { kFile, kDirectory, kSymlink };

  static ImageEntry File(std::string path, std::string source, int mode = 0755);
  static ImageEntry Directory(std::string path, int mode = 0755);
  static ImageEntry Symlink(std::string path, std::string target);

  Kind kind = Kind::kFile;
  std::string path;    // inside the image, relative: "bin/sh"
  std::string source;  // kFile: the host file whose bytes are copied
  std::string target;  // kSymlink: where the link points
  int mode = 0755;
};

struct ImageSpec {
  std::string name;  // a full reference, e.g. "aiconform.local/pause:1"
  std::vector<ImageEntry> entries;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string working_dir = "/";
};

struct ImageArchive {
  std::string name;    // the spec's reference
  std::string path;    // the archive file
  bool built = false;  // false when an archive of identical inputs was reused
};

// Writes the archive of `spec` into `out_dir` (created if missing), named after the image and
// a digest of its inputs: the spec and the contents of every source file. When that archive
// exists already, nothing is written. Older archives of the same image are removed.
Result<ImageArchive> BuildImage(const ImageSpec& spec, const std::string& out_dir);

// The digest of the inputs of `spec`, the part of the archive name that changes when an input
// changes.
Result<std::string> InputDigest(const ImageSpec& spec);

}  // namespace aic::images
