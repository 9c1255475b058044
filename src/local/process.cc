#include "local/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <deque>
#include <thread>

namespace aic::local {
namespace {

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// aiconform blocks SIGINT and SIGTERM in its threads to handle them on one thread; a child
// must start with the default mask and dispositions.
void UnblockSignals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

// Runs in the grandchild: redirect, then exec. Reports errno on `err_fd` when exec fails.
[[noreturn]] void ExecChild(const ProcessSpec& spec, int log_fd, int err_fd) {
  int null_fd = open("/dev/null", O_RDONLY);
  dup2(null_fd, 0);
  dup2(log_fd, 1);
  dup2(log_fd, 2);
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  if (!spec.working_dir.empty() && chdir(spec.working_dir.c_str()) != 0) {
    int e = errno;
    (void)!write(err_fd, &e, sizeof(e));
    _exit(127);
  }
  for (const auto& [k, v] : spec.env)
    setenv(k.c_str(), v.c_str(), 1);
  UnblockSignals();
  std::vector<char*> argv = CStrings(spec.argv);
  execv(argv[0], argv.data());
  int e = errno;
  (void)!write(err_fd, &e, sizeof(e));
  _exit(127);
}

bool ReadAll(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Fields of /proc/<pid>/stat after the command name: state is [0], start time is [19].
std::vector<std::string> StatFields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;)
    fields.push_back(f);
  return fields;
}

}  // namespace

Result<ProcessId> SpawnDetached(const ProcessSpec& spec) {
  if (spec.argv.empty()) return Status(Code::kInvalidArgument, "empty command line");
  if (access(spec.argv[0].c_str(), X_OK) != 0) {
    return Error(Code::kFailedPrecondition, "cannot execute {}: {}", spec.argv[0], strerror(errno));
  }
  int log_fd = open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0)
    return Error(Code::kFailedPrecondition, "cannot open {}: {}", spec.log_file, strerror(errno));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    close(log_fd);
    return Error(Code::kInternal, "pipe: {}", strerror(errno));
  }
  pid_t middle = fork();
  if (middle == 0) {
    close(fds[0]);
    setsid();
    pid_t child = fork();
    if (child == 0) ExecChild(spec, log_fd, fds[1]);
    (void)!write(fds[1], &child, sizeof(child));
    _exit(0);
  }
  close(fds[1]);
  close(log_fd);
  int wstatus = 0;
  waitpid(middle, &wstatus, 0);
  pid_t child = 0;
  int exec_errno = 0;
  bool got_pid = ReadAll(fds[0], &child, sizeof(child));
  bool exec_failed = got_pid && ReadAll(fds[0], &exec_errno, sizeof(exec_errno));
  close(fds[0]);
  if (!got_pid || child <= 0) return Status(Code::kInternal, "fork failed for " + spec.argv[0]);
  if (exec_failed) {
    return Error(Code::kFailedPrecondition, "cannot execute {}: {}", spec.argv[0],
                 strerror(exec_errno));
  }
  return ProcessId{child, StartTicks(child)};
}

unsigned long long StartTicks(pid_t pid) {
  auto f = StatFields(pid);
  if (f.size() < 20) return 0;
  return std::stoull(f[19]);
}

bool IsAlive(const ProcessId& id) {
  if (id.pid <= 0) return false;
  auto f = StatFields(id.pid);
  if (f.size() < 20) return false;
  if (id.start_ticks != 0 && std::stoull(f[19]) != id.start_ticks) return false;
  // When the main thread of a multi-threaded process exits first, the process shows as a zombie
  // while its other threads still run and hold its files and listening sockets; it is gone only
  // once that zombie is all that is left of it.
  bool zombie = f[0] == "Z" || f[0] == "X";
  return !zombie || std::stoul(f[17]) > 1;
}

long UptimeSeconds(const ProcessId& id) {
  if (!IsAlive(id)) return -1;
  std::ifstream in("/proc/uptime");
  double up = 0;
  in >> up;
  double started =
      static_cast<double>(StartTicks(id.pid)) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<long>(up - started);
}

Status Terminate(const ProcessId& id, std::chrono::milliseconds grace) {
  auto wait_gone = [&](std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (IsAlive(id)) {
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  };
  if (!IsAlive(id)) return Status::Ok();
  kill(id.pid, SIGTERM);
  if (wait_gone(grace)) return Status::Ok();
  kill(id.pid, SIGKILL);
  if (wait_gone(std::chrono::seconds(10))) return Status::Ok();
  return Error(Code::kInternal, "process {} survived SIGKILL", id.pid);
}

Result<std::string> RunCapture(const Context& ctx, const std::vector<std::string>& argv) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Error(Code::kInternal, "pipe: {}", strerror(errno));
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(out[1], 1);
    dup2(null_fd, 2);
    UnblockSignals();
    std::vector<char*> args = CStrings(argv);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  std::string output;
  char buf[4096];
  int wstatus = 0;
  for (;;) {
    ssize_t r = read(out[0], buf, sizeof(buf));
    if (r > 0) {
      output.append(buf, static_cast<size_t>(r));
      continue;
    }
    if (r == 0 && waitpid(pid, &wstatus, WNOHANG) == pid) break;
    if (!ctx.Check().ok()) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      close(out[0]);
      return Status(ctx.Check().code(), argv[0] + " did not finish in time");
    }
    if (r == 0 || (r < 0 && errno == EAGAIN))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (r == 0 && waitpid(pid, &wstatus, WNOHANG) == pid) break;
  }
  close(out[0]);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Error(Code::kFailedPrecondition, "{} failed (exit status {})", argv[0],
                 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus));
  }
  return output;
}

std::string TailFile(const std::string& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last)
    out += "  " + l + "\n";
  return out;
}

}  // namespace aic::local
