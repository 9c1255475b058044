#include "kube/exec_plugin.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/log.h"

extern char** environ;

namespace aic::kube {
namespace {

using json = nlohmann::json;

// The last `max` bytes of a plugin's stderr, redacted, for an error message.
std::string Tail(const std::string& text, size_t max = 300) {
  std::string t = text.size() > max ? "..." + text.substr(text.size() - max) : text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
    t.pop_back();
  return log::Redact(t);
}

std::vector<std::string> MergedEnv(const std::vector<std::pair<std::string, std::string>>& add) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : add)
    env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env)
    out.push_back(k + "=" + v);
  return out;
}

// Reads whatever is available on the two pipes until both close or the context ends.
Status Drain(const Context& ctx, int out_fd, int err_fd, ProcessOutput* result) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result->out, &result->err};
  int open = 2;
  char buf[8192];
  while (open > 0) {
    AIC_RETURN_IF_ERROR(ctx.Check());
    int n = poll(fds, 2, 50);
    if (n < 0 && errno != EINTR) return Error(Code::kInternal, "poll: {}", strerror(errno));
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

// Starts `argv` with stdin from /dev/null and stdout/stderr into pipes whose read ends are
// returned in fds[0] and fds[1].
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    int fds[2]) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Error(Code::kInternal, "pipe: {}", strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Error(Code::kInternal, "pipe: {}", strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv)
    c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const auto& e : env)
    c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  fds[0] = out_pipe[0];
  fds[1] = err_pipe[0];
  if (rc == 0) return pid;
  close(fds[0]);
  close(fds[1]);
  return Error(Code::kInvalidArgument, "cannot run \"{}\": {}", argv[0], strerror(rc));
}

}  // namespace

Result<ProcessOutput> RunProcess(const Context& ctx, const std::vector<std::string>& argv,
                                 const std::vector<std::pair<std::string, std::string>>& env) {
  int fds[2] = {-1, -1};
  AIC_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, MergedEnv(env), fds));
  ProcessOutput result;
  Status drained = Drain(ctx, fds[0], fds[1], &result);
  close(fds[0]);
  close(fds[1]);
  if (!drained.ok()) kill(pid, SIGKILL);  // the context ended first
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!drained.ok()) return drained;
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  std::string s(text);
  if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::string_view rest = std::string_view(s).substr(static_cast<size_t>(consumed));
  while (!rest.empty() && (rest.front() == '.' || isdigit(rest.front())))
    rest.remove_prefix(1);
  long offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int h = 0, m = 0;
    if (sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &h, &m) != 2) return std::nullopt;
    offset = (rest[0] == '+' ? 1 : -1) * (h * 3600L + m * 60L);
  } else {
    return std::nullopt;
  }
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t - offset);
}

Result<Credential> ParseExecCredential(std::string_view json_text, const std::string& api_version,
                                       const std::string& source) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error(Code::kUnauthenticated, "{}: the plugin did not print an ExecCredential as JSON",
                 source);
  }
  if (doc.value("kind", "") != "ExecCredential") {
    return Error(Code::kUnauthenticated, "{}: the plugin printed kind \"{}\", not ExecCredential",
                 source, doc.value("kind", ""));
  }
  if (doc.value("apiVersion", "") != api_version) {
    return Error(Code::kUnauthenticated,
                 "{}: the plugin printed apiVersion \"{}\", expected \"{}\"", source,
                 doc.value("apiVersion", ""), api_version);
  }
  const json& st = doc.contains("status") ? doc["status"] : json();
  if (!st.is_object())
    return Error(Code::kUnauthenticated, "{}: ExecCredential has no status", source);
  Credential cred;
  cred.token = st.value("token", "");
  cred.client_cert_pem = st.value("clientCertificateData", "");
  cred.client_key_pem = st.value("clientKeyData", "");
  if (cred.client_cert_pem.empty() != cred.client_key_pem.empty()) {
    return Error(Code::kUnauthenticated,
                 "{}: ExecCredential status.clientCertificateData and "
                 "status.clientKeyData must be set together",
                 source);
  }
  if (cred.token.empty() && cred.client_cert_pem.empty()) {
    return Error(Code::kUnauthenticated,
                 "{}: ExecCredential status has neither token nor clientCertificateData", source);
  }
  std::string expiry = st.value("expirationTimestamp", "");
  if (!expiry.empty()) {
    cred.expiry = ParseRfc3339(expiry);
    if (!cred.expiry) {
      return Error(Code::kUnauthenticated, "{}: status.expirationTimestamp \"{}\" is not RFC 3339",
                   source, expiry);
    }
  }
  return cred;
}

ExecPlugin::ExecPlugin(ExecConfig config, ClusterEntry cluster, Now now)
    : config_(std::move(config)), cluster_(std::move(cluster)), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::system_clock::now(); };
}

Result<Credential> ExecPlugin::Get(const Context& ctx) {
  std::lock_guard lock(mu_);
  if (cached_ && (!cached_->expiry || now_() < *cached_->expiry)) return *cached_;
  cached_.reset();
  AIC_ASSIGN_OR_RETURN(Credential cred, Run(ctx));
  cached_ = cred;
  return cred;
}

void ExecPlugin::Invalidate() {
  std::lock_guard lock(mu_);
  cached_.reset();
}

int ExecPlugin::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

std::string ExecPlugin::ExecInfo() const {
  json spec = {{"interactive", false}};
  if (config_.provide_cluster_info) {
    std::string ca = cluster_.certificate_authority_data;
    if (ca.empty() && !cluster_.certificate_authority.empty()) {
      std::ifstream in(cluster_.certificate_authority);
      std::stringstream buf;
      buf << in.rdbuf();
      ca = buf.str();
    }
    json cluster = {{"server", cluster_.server}};
    if (!cluster_.tls_server_name.empty()) cluster["tls-server-name"] = cluster_.tls_server_name;
    if (cluster_.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!ca.empty()) cluster["certificate-authority-data"] = EncodeBase64(ca);
    if (!cluster_.proxy_url.empty()) cluster["proxy-url"] = cluster_.proxy_url;
    spec["cluster"] = cluster;
  }
  json info = {{"apiVersion", config_.api_version}, {"kind", "ExecCredential"}, {"spec", spec}};
  return info.dump();
}

Result<Credential> ExecPlugin::Run(const Context& ctx) {
  std::vector<std::string> argv = {config_.command};
  argv.insert(argv.end(), config_.args.begin(), config_.args.end());
  auto env = config_.env;
  env.emplace_back("KUBERNETES_EXEC_INFO", ExecInfo());
  ++runs_;
  log::Get("kube")->debug("running credential plugin \"{}\"", config_.command);

  Context run_ctx = ctx.Child(std::chrono::seconds(60));
  auto out = RunProcess(run_ctx, argv, env);
  std::string hint = config_.install_hint.empty() ? "" : " (" + config_.install_hint + ")";
  if (!out.ok()) {
    return Error(Code::kUnauthenticated, "{}: credential plugin failed: {}{}", config_.source,
                 out.status().message(), hint);
  }
  if (out->exit_code != 0) {
    std::string err = Tail(out->err);
    return Error(Code::kUnauthenticated, "{}: credential plugin \"{}\" exited with status {}{}{}",
                 config_.source, config_.command, out->exit_code, err.empty() ? "" : ": " + err,
                 hint);
  }
  return ParseExecCredential(
      out->out, config_.api_version,
      fmt::format("{}: credential plugin \"{}\"", config_.source, config_.command));
}

}  // namespace aic::kube
