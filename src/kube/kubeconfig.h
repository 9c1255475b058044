// kubeconfig files read the way kubectl reads them: one file or the KUBECONFIG list merged,
// contexts, clusters and users, resolved into the connection settings of one context.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http.h"
#include "common/status.h"

namespace aic::kube {

// users[].user.exec: a credential plugin (client.authentication.k8s.io/v1).
struct ExecConfig {
  std::string api_version;
  std::string command;  // a bare name is looked up in PATH; a relative path is absolute here
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool provide_cluster_info = false;
  std::string install_hint;
  std::string source;  // "<file>: users[<name>].user.exec", for error messages
};

struct ClusterEntry {
  std::string server;
  std::string certificate_authority;       // an absolute path, or ""
  std::string certificate_authority_data;  // decoded PEM, or ""
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
  std::string source_file;
};

// Paths are absolute: relative ones are resolved against the directory of the file that
// named them. The *_data fields hold decoded PEM.
struct UserEntry {
  std::string client_certificate;
  std::string client_key;
  std::string client_certificate_data;
  std::string client_key_data;
  std::string token;
  std::string token_file;
  std::optional<ExecConfig> exec;
  std::string source_file;
};

struct ContextEntry {
  std::string cluster;
  std::string user;
  std::string ns;  // "namespace" in the file
  std::string source_file;
};

// Everything needed to talk to one API server as one user. Holds secrets: never log it.
struct RestConfig {
  std::string context;  // the context it came from, for messages
  std::string server;   // https://host:port, without a trailing slash
  std::string ns = "default";
  http::TlsOptions tls;
  std::string proxy;
  std::string token;
  std::string token_file;
  std::optional<ExecConfig> exec;
  // The cluster entry, passed to exec plugins that set provideClusterInfo.
  ClusterEntry cluster;
};

class Kubeconfig {
 public:
  // Parses one kubeconfig document. `path` names it in errors and anchors relative paths.
  // Errors name the file and the field, e.g. "kubeconfig /x: users[0].user.token: ...".
  static Result<Kubeconfig> Parse(std::string_view text, const std::string& path);

  // Reads and parses one file; a missing or unreadable file is an error naming it.
  static Result<Kubeconfig> LoadFile(const std::string& path);

  // Merges files in order with kubectl's rules: the first file to define a cluster, user or
  // context name wins, and current-context comes from the first file that sets it. Missing
  // files are skipped; it is an error when none exists. Duplicate paths are read once.
  static Result<Kubeconfig> LoadMerged(const std::vector<std::string>& paths);

  // `explicit_path` when not empty (like --kubeconfig), else the KUBECONFIG list, else
  // ~/.kube/config.
  static Result<Kubeconfig> LoadDefault(const std::string& explicit_path = "");

  // Adds the entries of `other` that this config does not define yet.
  void MergeFrom(const Kubeconfig& other);

  // The settings of `context` ("" means current-context), with certificate files read.
  // Errors name the context, cluster or user that is missing and the file involved.
  Result<RestConfig> Resolve(const std::string& context = "") const;

  const std::string& current_context() const { return current_context_; }
  const std::map<std::string, ClusterEntry>& clusters() const { return clusters_; }
  const std::map<std::string, UserEntry>& users() const { return users_; }
  const std::map<std::string, ContextEntry>& contexts() const { return contexts_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  std::map<std::string, ClusterEntry> clusters_;
  std::map<std::string, UserEntry> users_;
  std::map<std::string, ContextEntry> contexts_;
  std::string current_context_;
  std::vector<std::string> files_;
};

// Splits a KUBECONFIG value on ':' dropping empty entries.
std::vector<std::string> SplitKubeconfigPath(std::string_view value);

// Standard base64 (with or without padding, whitespace ignored); nullopt when malformed.
std::optional<std::string> DecodeBase64(std::string_view text);
std::string EncodeBase64(std::string_view data);

}  // namespace aic::kube
