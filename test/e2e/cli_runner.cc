#include "e2e/cli_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace aic::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

[[noreturn]] void ExecCli(const std::vector<std::string>& args, int out_fd, int err_fd) {
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  std::vector<char*> argv;
  std::string cli = AIC_CLI;
  argv.push_back(cli.data());
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

}  // namespace

int StartCli(const std::vector<std::string>& args, const std::string& err_file) {
  int err_fd = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int out_fd = open("/dev/null", O_WRONLY);
  pid_t pid = fork();
  if (pid == 0) ExecCli(args, out_fd, err_fd);
  close(err_fd);
  close(out_fd);
  return pid;
}

int WaitCli(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

CliResult RunCli(const std::vector<std::string>& args) {
  std::string base =
      std::filesystem::temp_directory_path() / ("aic-cli-" + std::to_string(getpid()));
  std::string out_path = base + ".out", err_path = base + ".err";
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = fork();
  if (pid == 0) ExecCli(args, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
  CliResult r;
  r.exit_code = WaitCli(pid);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

std::vector<int> ProcessesMentioning(const std::string& needle) {
  std::vector<int> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string cmdline = Slurp(entry.path() / "cmdline");
    std::string stat = Slurp(entry.path() / "stat");
    auto close = stat.rfind(')');
    bool zombie = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
    if (!zombie && cmdline.find(needle) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace aic::testing
