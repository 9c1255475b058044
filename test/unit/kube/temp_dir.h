// A scratch directory removed when the test ends.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace aic::kube::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "aic-kube-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  // Writes `text` to <dir>/<name> and returns the full path; `mode` as for chmod.
  std::string Write(const std::string& name, const std::string& text, int mode = 0644) const {
    std::string full = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path());
    std::ofstream(full) << text;
    std::filesystem::permissions(full, static_cast<std::filesystem::perms>(mode));
    return full;
  }

 private:
  std::string path_;
};

}  // namespace aic::kube::testing
