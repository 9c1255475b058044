#include "local/images/catalog.h"

#include <cstdlib>
#include <filesystem>

namespace aic::images {
namespace {

namespace fs = std::filesystem;

bool IsExecutable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) &&
         (fs::status(p, ec).permissions() & fs::perms::owner_exec) != fs::perms::none;
}

}  // namespace

ImageSpec PauseImageSpec(const std::string& pause_binary) {
  ImageSpec spec;
  spec.name = kPauseImage;
  spec.entries = {ImageEntry::File("pause", pause_binary, 0755)};
  spec.entrypoint = {"/pause"};
  return spec;
}

ImageSpec ProbeImageSpec(const std::string& busybox) {
  ImageSpec spec;
  spec.name = kProbeImage;
  spec.entries = {ImageEntry::File("bin/busybox", busybox, 0755),
                  ImageEntry::Directory("tmp", 01777), ImageEntry::Directory("etc"),
                  ImageEntry::Directory("www")};
  spec.cmd = {"/bin/sh"};
  spec.env = {"PATH=/bin"};
  for (const char* applet : kProbeApplets) {
    spec.entries.push_back(ImageEntry::Symlink(std::string("bin/") + applet, "busybox"));
  }
  return spec;
}

ImageSpec CoreDnsImageSpec(const std::string& coredns_binary) {
  ImageSpec spec;
  spec.name = kCoreDnsImage;
  spec.entries = {ImageEntry::File("coredns", coredns_binary, 0755),
                  ImageEntry::Directory("etc/coredns"), ImageEntry::Directory("tmp", 01777)};
  spec.entrypoint = {"/coredns"};
  return spec;
}

std::string DefaultPauseBinary() {
  if (const char* env = std::getenv("AICONFORM_PAUSE_BIN"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  fs::path beside = fs::read_symlink("/proc/self/exe", ec).parent_path() / "aiconform-pause";
  if (!ec && IsExecutable(beside)) return beside.string();
  if (IsExecutable(AIC_BUILD_PAUSE_BINARY)) return AIC_BUILD_PAUSE_BINARY;
  return "";
}

std::string DefaultImageDir() {
  if (const char* env = std::getenv("AICONFORM_CACHE"); env != nullptr && *env != '\0') {
    return std::string(env) + "/images";
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/aiconform/images";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/root") + "/.cache/aiconform/images";
}

}  // namespace aic::images
