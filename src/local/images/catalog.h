// The images every local node needs, built from files on this machine: our pause program as
// the pod sandbox image and busybox-static as a probe image that checks run commands in.
#pragma once

#include <string>

#include "local/images/oci.h"

namespace aic::images {

inline constexpr const char* kPauseImage = "aiconform.local/pause:1";
inline constexpr const char* kProbeImage = "aiconform.local/probe:1";
inline constexpr const char* kCoreDnsImage = "aiconform.local/coredns:1.14.7";

// The busybox applets the probe image links: a shell, HTTP and TCP clients, an HTTP server,
// DNS lookups and the small tools checks script with. Debian bookworm's busybox-static 1.35
// wget crashes (SIGSEGV) when given -T; bound a request's time from outside instead.
inline constexpr const char* kProbeApplets[] = {
    "sh", "ash",  "wget",  "nc",    "httpd", "nslookup", "ping", "sleep", "cat",   "echo",
    "ls", "ps",   "kill",  "grep",  "head",  "tail",     "dd",   "env",   "mkdir", "hostname",
    "id", "true", "false", "uname", "date",  "wc",       "ip",   "seq",   "rm",    "touch"};

ImageSpec PauseImageSpec(const std::string& pause_binary);
ImageSpec ProbeImageSpec(const std::string& busybox = "/bin/busybox");
// The cluster DNS server: the coredns binary scripts/build-node.sh builds, alone in its image.
ImageSpec CoreDnsImageSpec(const std::string& coredns_binary);

// The pause program: $AICONFORM_PAUSE_BIN, else "aiconform-pause" beside the running
// executable, else the one this build tree compiled. Empty when none exists.
std::string DefaultPauseBinary();

// Where archives are cached: $AICONFORM_CACHE/images, else ~/.cache/aiconform/images.
std::string DefaultImageDir();

}  // namespace aic::images
