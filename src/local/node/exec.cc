#include "local/node/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "common/log.h"

namespace aic::node {
namespace {

using std::chrono::milliseconds;

std::vector<char*> CArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& a : argv)
    out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// In the child between fork and exec: only async-signal-safe calls. Reports errno on
// `err_fd` (close-on-exec, so a successful exec closes it silently) and exits.
[[noreturn]] void ExecChild(char** argv, int netns_fd, int out_fd, int err_fd, bool new_session) {
  if (new_session) setsid();
  if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) {
    int e = errno;
    (void)!write(err_fd, &e, sizeof(e));
    _exit(127);
  }
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);
  dup2(out_fd, 1);
  dup2(out_fd, 2);
  execvp(argv[0], argv);
  int e = errno;
  (void)!write(err_fd, &e, sizeof(e));
  _exit(127);
}

// Forks and execs; returns the pid once exec succeeded.
Result<pid_t> ForkExec(const std::vector<std::string>& argv, const std::string& netns, int out_fd,
                       bool new_session) {
  if (argv.empty()) return Status(Code::kInvalidArgument, "empty command");
  int netns_fd = -1;
  if (!netns.empty()) {
    netns_fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
      return Error(Code::kFailedPrecondition, "cannot open network namespace \"{}\": {}", netns,
                   std::strerror(errno));
    }
  }
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    if (netns_fd >= 0) close(netns_fd);
    return Error(Code::kInternal, "pipe: {}", std::strerror(errno));
  }
  std::vector<char*> cargv = CArgv(argv);
  pid_t pid = fork();
  if (pid == 0) ExecChild(cargv.data(), netns_fd, out_fd, err_pipe[1], new_session);
  close(err_pipe[1]);
  if (netns_fd >= 0) close(netns_fd);
  if (pid < 0) {
    close(err_pipe[0]);
    return Error(Code::kInternal, "fork: {}", std::strerror(errno));
  }

  int child_errno = 0;
  ssize_t n = read(err_pipe[0], &child_errno, sizeof(child_errno));
  close(err_pipe[0]);
  if (n == sizeof(child_errno)) {
    waitpid(pid, nullptr, 0);
    return Error(Code::kFailedPrecondition, "cannot execute \"{}\": {}", argv[0],
                 std::strerror(child_errno));
  }
  return pid;
}

std::string Tail(const std::string& text, size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

}  // namespace

Result<std::string> Run(const Context& ctx, const std::vector<std::string>& argv,
                        const std::string& netns) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Error(Code::kInternal, "pipe: {}", std::strerror(errno));
  auto pid = ForkExec(argv, netns, out[1], /*new_session=*/false);
  close(out[1]);
  if (!pid.ok()) {
    close(out[0]);
    return pid.status();
  }

  std::string output;
  char buf[4096];
  bool timed_out = false;
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::min<long>(ctx.remaining().count(), 200)));
    if (ready > 0) {
      ssize_t n = read(out[0], buf, sizeof(buf));
      if (n <= 0) break;
      output.append(buf, static_cast<size_t>(n));
    } else if (!ctx.Check().ok()) {
      timed_out = true;
      kill(*pid, SIGKILL);
      break;
    }
  }
  close(out[0]);

  int wstatus = 0;
  waitpid(*pid, &wstatus, 0);
  std::string cmd = argv[0] + (argv.size() > 1 ? " " + argv[1] : "");
  if (timed_out) {
    return Error(Code::kDeadlineExceeded, "\"{}\" did not finish in time", cmd);
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    return Error(Code::kInternal, "\"{}\" exited with {}: {}", cmd, code, Tail(output, 400));
  }
  return output;
}

Result<pid_t> StartDaemon(const DaemonSpec& spec) {
  int log_fd = open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Error(Code::kFailedPrecondition, "cannot open log \"{}\": {}", spec.log_file,
                 std::strerror(errno));
  }
  auto pid = ForkExec(spec.argv, spec.netns, log_fd, /*new_session=*/true);
  close(log_fd);
  return pid;
}

bool Exited(pid_t pid) {
  int wstatus = 0;
  pid_t r = waitpid(pid, &wstatus, WNOHANG);
  if (r == pid) return true;
  if (r == 0) return false;  // our child, still running
  if (kill(pid, 0) != 0) return errno == ESRCH;
  // Not our child: a zombie waiting for another parent has exited too.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

Status StopProcess(pid_t pid, milliseconds grace) {
  auto wait_gone = [pid](milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!Exited(pid)) {
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return true;
  };
  if (Exited(pid)) return Status::Ok();
  kill(pid, SIGTERM);
  if (wait_gone(grace)) return Status::Ok();
  log::Get("node")->warn("process {} ignored SIGTERM for {} ms; killing it", pid, grace.count());
  kill(pid, SIGKILL);
  if (wait_gone(milliseconds(5000))) return Status::Ok();
  return Error(Code::kInternal, "process {} survived SIGKILL", pid);
}

}  // namespace aic::node
