// Starts and stops the ARM emulator (arm_emulator.py) for a test or a benchmark: a fresh
// certificate authority per run, HTTPS on a loopback port, and the emulator's control endpoints.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace aic::azure::testing {

class EmulatorProcess {
 public:
  // `scale`: seconds per latency unit (a cluster takes 10 units, a pool 5, a feature 3).
  static Result<std::unique_ptr<EmulatorProcess>> Start(double scale);
  ~EmulatorProcess();  // stops the emulator and removes its files

  std::string endpoint() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& token() const { return token_; }
  const std::string& dir() const { return dir_; }

  Result<nlohmann::json> State() const;
  Status SetFaults(const nlohmann::json& rules) const;
  // A raw request to the emulator, with the bearer token when `auth`.
  Result<std::pair<int, nlohmann::json>> Request(const std::string& method, const std::string& path,
                                                 const std::string& body, bool auth = true) const;

  // Environment for a service principal with a secret, as `aiconform` reads it.
  std::map<std::string, std::string> SecretEnv() const;

 private:
  EmulatorProcess() = default;
  int pid_ = -1;
  int port_ = 0;
  std::string dir_, ca_file_, token_;
};

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs the aiconform binary with `args`, the current environment minus any AZURE_* variable,
// plus `env`.
CliResult RunCli(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env);

}  // namespace aic::azure::testing
