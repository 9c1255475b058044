#include "local/process.h"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "local/state.h"

namespace aic::local {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string TempFile(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("aic-process-test-" + name)).string();
}

TEST(Process, DetachedProcessRunsUntilTerminated) {
  std::string log = TempFile("sleep.log");
  std::filesystem::remove(log);
  auto id = SpawnDetached({{"/bin/sh", "-c", "echo started; exec sleep 60"}, {}, log, ""});
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_TRUE(IsAlive(*id));
  EXPECT_GE(UptimeSeconds(*id), 0);
  for (int i = 0; i < 500 && TailFile(log, 5).find("started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_NE(TailFile(log, 5).find("started"), std::string::npos) << "output reaches the log";

  ASSERT_TRUE(Terminate(*id, seconds(5)).ok());
  EXPECT_FALSE(IsAlive(*id));
  std::filesystem::remove(log);
}

TEST(Process, ProcessIgnoringSigtermIsKilled) {
  std::string log = TempFile("stubborn.log");
  auto id = SpawnDetached(
      {{"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"}, {}, log, ""});
  ASSERT_TRUE(id.ok());
  for (int i = 0; i < 100 && TailFile(log, 1).find("ready") == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(Terminate(*id, milliseconds(200)).ok());
  EXPECT_FALSE(IsAlive(*id));
  std::filesystem::remove(log);
}

// The way a SIGKILLed kube-apiserver can look for a moment: its main thread is a zombie while
// another thread still runs (and still holds the listening socket a restart needs).
TEST(Process, ZombieMainThreadWithALiveThreadIsStillRunning) {
  int release[2];
  ASSERT_EQ(pipe(release), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(release[1]);
    std::thread([fd = release[0]] {
      char c;
      (void)!read(fd, &c, 1);
      _exit(0);
    }).detach();
    syscall(SYS_exit, 0);  // this thread alone, without unwinding into the test framework
  }
  close(release[0]);
  ProcessId id{pid, StartTicks(pid)};
  bool leader_zombie = false;
  for (int i = 0; i < 500 && !leader_zombie; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    leader_zombie = line.find(") Z ") != std::string::npos;
    if (!leader_zombie) std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(leader_zombie) << "the main thread did not exit first";
  EXPECT_TRUE(IsAlive(id)) << "a process with a running thread was reported gone";

  close(release[1]);  // the remaining thread ends the process
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = !IsAlive(id);
    if (!gone) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(gone) << "an exited process (an unreaped zombie) was reported running";
  waitpid(pid, nullptr, 0);
}

TEST(Process, MissingExecutableIsReportedByName) {
  auto id = SpawnDetached({{"/nonexistent/kube-apiserver"}, {}, TempFile("none.log"), ""});
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("/nonexistent/kube-apiserver"), std::string::npos);
}

TEST(Process, RecycledPidIsNotMistakenForTheProcess) {
  ProcessId self{getpid(), StartTicks(getpid())};
  EXPECT_TRUE(IsAlive(self));
  ProcessId impostor{getpid(), self.start_ticks + 1};
  EXPECT_FALSE(IsAlive(impostor));
}

TEST(Process, RunCaptureReturnsStdoutAndFailsOnNonZeroExit) {
  auto out = RunCapture(Context::WithTimeout(seconds(5)), {"/bin/echo", "hello"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "hello\n");
  auto bad = RunCapture(Context::WithTimeout(seconds(5)), {"/bin/sh", "-c", "exit 3"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("exit status 3"), std::string::npos);
}

TEST(Process, RunCaptureStopsAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  auto out = RunCapture(Context::WithTimeout(milliseconds(200)), {"/bin/sleep", "30"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

TEST(Ports, FreePortIsBindableAndPreferredPortIsKeptWhenFree) {
  auto port = FreePort();
  ASSERT_TRUE(port.ok());
  EXPECT_FALSE(PortInUse(*port));
  auto again = FreePort(*port);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *port);
}

}  // namespace
}  // namespace aic::local
