// Processes of the local cluster: started detached from aiconform (their own session,
// reparented to init) so that they outlive the command that started them, and identified by
// pid plus start time so that a recycled pid is never mistaken for them.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/context.h"
#include "common/status.h"

namespace aic::local {

struct ProcessSpec {
  std::vector<std::string> argv;                         // argv[0] is the executable's path
  std::vector<std::pair<std::string, std::string>> env;  // added to the inherited environment
  std::string log_file;                                  // stdout and stderr are appended here
  std::string working_dir;                               // empty: inherit
};

struct ProcessId {
  pid_t pid = 0;
  unsigned long long start_ticks = 0;  // /proc/<pid>/stat field 22
};

// Starts `spec` detached. Fails, naming the executable, when it cannot be executed.
Result<ProcessId> SpawnDetached(const ProcessSpec& spec);

// True while the process runs (a zombie or a different process on the same pid is not it). A
// zombie main thread with other threads still exiting counts as running: until they are gone the
// process still holds its files and sockets.
bool IsAlive(const ProcessId& id);

// Seconds since the process started, or -1 when it is not alive.
long UptimeSeconds(const ProcessId& id);

// Sends SIGTERM, waits up to `grace`, then SIGKILL and waits again. Ok once it is gone.
Status Terminate(const ProcessId& id, std::chrono::milliseconds grace);

// Runs argv to completion and returns its stdout (stderr discarded); fails on a non-zero
// exit, a failure to execute, or when `ctx` ends first (the child is then killed).
Result<std::string> RunCapture(const Context& ctx, const std::vector<std::string>& argv);

// Returns the pid's start time in clock ticks since boot, or 0 when it does not exist.
unsigned long long StartTicks(pid_t pid);

// The last `lines` lines of a text file ("" when it cannot be read).
std::string TailFile(const std::string& path, int lines);

}  // namespace aic::local
