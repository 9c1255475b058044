// A minimal process helper for node runtimes: short commands run to completion, and daemons
// started inside a node's network namespace. Only the network namespace is joined; the mount
// namespace stays the host's, so containerd's mounts are visible to kubelet and to teardown.
//
// TODO(process): merge with local/process.h once the control plane's helper has landed; this
// one exists because starting a process inside a network namespace needs setns before exec.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/context.h"
#include "common/status.h"

namespace aic::node {

// Runs argv (argv[0] a path or a name looked up in PATH) to completion, inside the network
// namespace at `netns` when it is not empty. Returns stdout and stderr together; a non-zero
// exit fails with the end of that output in the message. The child is killed when `ctx` ends.
Result<std::string> Run(const Context& ctx, const std::vector<std::string>& argv,
                        const std::string& netns = "");

struct DaemonSpec {
  std::vector<std::string> argv;
  std::string netns;     // a namespace file (/run/netns/<name>); empty: the caller's
  std::string log_file;  // stdout and stderr are appended here
};

// Starts a daemon in its own session. Fails when it cannot be executed.
Result<pid_t> StartDaemon(const DaemonSpec& spec);

// True once `pid` no longer runs (reaped, or a zombie that is not our child).
bool Exited(pid_t pid);

// Sends SIGTERM, waits up to `grace`, then SIGKILL and waits up to 5 s more.
Status StopProcess(pid_t pid, std::chrono::milliseconds grace);

}  // namespace aic::node
