#include "emulator_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/http.h"

extern char** environ;

namespace aic::azure::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// fork + exec with stdout/stderr to files; returns the child's pid.
int Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
          const std::string& out, const std::string& err) {
  fflush(nullptr);  // or the child's freopen would write our pending output a second time
  int pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
  if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
  std::vector<char*> a, e;
  for (const auto& s : argv)
    a.push_back(const_cast<char*>(s.c_str()));
  for (const auto& s : env)
    e.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  e.push_back(nullptr);
  execve(a[0], a.data(), e.data());
  _exit(127);
}

}  // namespace

Result<std::unique_ptr<EmulatorProcess>> EmulatorProcess::Start(double scale) {
  std::unique_ptr<EmulatorProcess> p(new EmulatorProcess());
  char tmpl[] = "/tmp/aic-arm-XXXXXX";
  if (!mkdtemp(tmpl)) return Status(Code::kInternal, "mkdtemp failed");
  p->dir_ = tmpl;
  p->ca_file_ = p->dir_ + "/cert.pem";
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      p->dir_ + "/key.pem -out " + p->ca_file_ + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return Status(Code::kInternal, "openssl req failed");

  std::string port_file = p->dir_ + "/port.json";
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    env.emplace_back(*e);
  p->pid_ =
      Spawn({"/usr/bin/python3", AIC_EMULATOR_PY, "--cert", p->ca_file_, "--key",
             p->dir_ + "/key.pem", "--port-file", port_file, "--scale", std::to_string(scale)},
            env, p->dir_ + "/emulator.out", p->dir_ + "/emulator.err");
  // Poll for the port file the emulator writes once it listens.
  for (int i = 0; i < 500 && !fs::exists(port_file); ++i) {
    int status = 0;
    if (waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      return Status(Code::kInternal, "emulator exited: " + Slurp(p->dir_ + "/emulator.err"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!fs::exists(port_file)) return Status(Code::kInternal, "emulator did not start");
  auto info = nlohmann::json::parse(Slurp(port_file));
  p->port_ = info["port"];
  p->token_ = info["token"];
  return p;
}

EmulatorProcess::~EmulatorProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Result<std::pair<int, nlohmann::json>> EmulatorProcess::Request(const std::string& method,
                                                                const std::string& path,
                                                                const std::string& body,
                                                                bool auth) const {
  http::ClientOptions opts;
  opts.tls.ca_file = ca_file_;
  AIC_ASSIGN_OR_RETURN(auto client, http::Client::Create(opts));
  http::Request req;
  req.method = method;
  req.url = endpoint() + path;
  req.body = body;
  req.headers = {{"Content-Type", "application/json"}};
  if (auth) req.headers.emplace_back("Authorization", "Bearer " + token_);
  AIC_ASSIGN_OR_RETURN(auto resp, client->Do(Context::WithTimeout(std::chrono::seconds(10)), req));
  auto parsed = nlohmann::json::parse(resp.body, nullptr, false);
  return std::make_pair(resp.status, parsed.is_discarded() ? nlohmann::json() : parsed);
}

Result<nlohmann::json> EmulatorProcess::State() const {
  AIC_ASSIGN_OR_RETURN(auto r, Request("GET", "/_emulator/state", "", false));
  return r.second;
}

Status EmulatorProcess::SetFaults(const nlohmann::json& rules) const {
  AIC_ASSIGN_OR_RETURN(
      auto r, Request("POST", "/_emulator/faults", nlohmann::json{{"rules", rules}}.dump(), false));
  return r.first == 200 ? Status::Ok() : Status(Code::kInternal, "faults not accepted");
}

std::map<std::string, std::string> EmulatorProcess::SecretEnv() const {
  return {{"AZURE_TENANT_ID", "tenant-1"},
          {"AZURE_CLIENT_ID", "client-1"},
          {"AZURE_CLIENT_SECRET", "emulator-secret"},
          {"AZURE_AUTHORITY_HOST", endpoint()},
          {"AZURE_SUBSCRIPTION_ID", "11111111-2222-3333-4444-555555555555"},
          {"AIC_AZURE_POLL_INTERVAL_MS", "20"}};
}

CliResult RunCli(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env) {
  std::vector<std::string> e;
  for (char** v = environ; *v; ++v) {
    if (std::string(*v).rfind("AZURE_", 0) != 0) e.emplace_back(*v);
  }
  for (const auto& [k, v] : env)
    e.push_back(k + "=" + v);
  std::vector<std::string> argv = {AIC_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  char tmpl[] = "/tmp/aic-cli-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  int pid = Spawn(argv, e, dir + "/out", dir + "/err");
  int status = 0;
  waitpid(pid, &status, 0);
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(dir + "/out");
  r.err = Slurp(dir + "/err");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return r;
}

}  // namespace aic::azure::testing
