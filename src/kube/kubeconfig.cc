#include "kube/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace aic::kube {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadWholeFile(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return Error(Code::kInvalidArgument, "{} {} does not exist", what, path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Code::kInvalidArgument, "cannot read {} {}", what, path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Reads the fields of one kubeconfig document; every error names the file and the field.
class DocReader {
 public:
  DocReader(const std::string& file, std::string dir) : file_(file), dir_(std::move(dir)) {}

  Status Err(const std::string& field, const std::string& why) const {
    return Error(Code::kInvalidArgument, "kubeconfig {}: {}: {}", file_, field, why);
  }

  // A string field; "" when absent or null.
  Result<std::string> Str(const YAML::Node& map, const char* key, const std::string& field) {
    YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return std::string();
    if (!node.IsScalar()) return Err(field + "." + key, "expected a string");
    return node.Scalar();
  }

  Result<bool> Bool(const YAML::Node& map, const char* key, const std::string& field) {
    YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return false;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return Err(field + "." + key, "expected true or false");
    }
    return value;
  }

  // A path field, made absolute against the file's directory.
  Result<std::string> Path(const YAML::Node& map, const char* key, const std::string& field) {
    AIC_ASSIGN_OR_RETURN(std::string value, Str(map, key, field));
    if (value.empty() || fs::path(value).is_absolute()) return value;
    if (value.rfind("~/", 0) == 0 && std::getenv("HOME")) {
      return (fs::path(std::getenv("HOME")) / value.substr(2)).string();
    }
    return (fs::path(dir_) / value).lexically_normal().string();
  }

  // A base64 field decoded; the error never quotes the value.
  Result<std::string> Data(const YAML::Node& map, const char* key, const std::string& field) {
    AIC_ASSIGN_OR_RETURN(std::string value, Str(map, key, field));
    if (value.empty()) return value;
    auto decoded = DecodeBase64(value);
    if (!decoded) return Err(field + "." + key, "not valid base64");
    return *decoded;
  }

  const std::string& file() const { return file_; }
  const std::string& dir() const { return dir_; }

 private:
  const std::string& file_;
  std::string dir_;
};

// Iterates a top-level list of {name, <body_key>: map}; calls `fn(name, body, field)`. A name
// listed twice in one file is an error, as kubectl has it: which entry was meant is unclear.
template <typename Fn>
Status ForEachNamed(DocReader& r, const YAML::Node& root, const char* list_key,
                    const char* body_key, Fn fn) {
  YAML::Node list = root[list_key];
  if (!list.IsDefined() || list.IsNull()) return Status::Ok();
  if (!list.IsSequence()) return r.Err(list_key, "expected a list");
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string field = fmt::format("{}[{}]", list_key, i);
    const YAML::Node& item = list[i];
    if (!item.IsMap()) return r.Err(field, "expected a map with name and " + std::string(body_key));
    AIC_ASSIGN_OR_RETURN(std::string name, r.Str(item, "name", field));
    if (name.empty()) return r.Err(field + ".name", "missing");
    if (!names.insert(name).second) {
      return r.Err(field + ".name", fmt::format("\"{}\" is defined twice in {}", name, list_key));
    }
    YAML::Node body = item[body_key];
    std::string body_field = field + "." + body_key;
    if (body.IsDefined() && !body.IsNull() && !body.IsMap())
      return r.Err(body_field, "expected a map");
    AIC_RETURN_IF_ERROR(
        fn(name, body.IsMap() ? body : YAML::Node(YAML::NodeType::Map), body_field));
  }
  return Status::Ok();
}

Result<ClusterEntry> ReadCluster(DocReader& r, const YAML::Node& c, const std::string& field) {
  ClusterEntry e;
  e.source_file = r.file();
  AIC_ASSIGN_OR_RETURN(e.server, r.Str(c, "server", field));
  AIC_ASSIGN_OR_RETURN(e.certificate_authority, r.Path(c, "certificate-authority", field));
  AIC_ASSIGN_OR_RETURN(e.certificate_authority_data,
                       r.Data(c, "certificate-authority-data", field));
  AIC_ASSIGN_OR_RETURN(e.insecure_skip_tls_verify, r.Bool(c, "insecure-skip-tls-verify", field));
  AIC_ASSIGN_OR_RETURN(e.tls_server_name, r.Str(c, "tls-server-name", field));
  AIC_ASSIGN_OR_RETURN(e.proxy_url, r.Str(c, "proxy-url", field));
  return e;
}

Result<ExecConfig> ReadExec(DocReader& r, const YAML::Node& x, const std::string& field) {
  if (!x.IsMap()) return r.Err(field, "expected a map");
  ExecConfig e;
  e.source = fmt::format("kubeconfig {}: {}", r.file(), field);
  AIC_ASSIGN_OR_RETURN(e.api_version, r.Str(x, "apiVersion", field));
  if (e.api_version != "client.authentication.k8s.io/v1" &&
      e.api_version != "client.authentication.k8s.io/v1beta1") {
    return r.Err(field + ".apiVersion",
                 "must be client.authentication.k8s.io/v1, not \"" + e.api_version + "\"");
  }
  AIC_ASSIGN_OR_RETURN(e.command, r.Str(x, "command", field));
  if (e.command.empty()) return r.Err(field + ".command", "missing");
  if (e.command.find('/') != std::string::npos && !fs::path(e.command).is_absolute()) {
    e.command = (fs::path(r.dir()) / e.command).lexically_normal().string();
  }
  AIC_ASSIGN_OR_RETURN(e.provide_cluster_info, r.Bool(x, "provideClusterInfo", field));
  AIC_ASSIGN_OR_RETURN(e.install_hint, r.Str(x, "installHint", field));
  if (x["args"].IsDefined() && !x["args"].IsNull()) {
    if (!x["args"].IsSequence()) return r.Err(field + ".args", "expected a list of strings");
    for (const auto& a : x["args"]) {
      if (!a.IsScalar()) return r.Err(field + ".args", "expected a list of strings");
      e.args.push_back(a.Scalar());
    }
  }
  if (x["env"].IsDefined() && !x["env"].IsNull()) {
    if (!x["env"].IsSequence()) return r.Err(field + ".env", "expected a list of {name, value}");
    for (const auto& kv : x["env"]) {
      if (!kv.IsMap() || !kv["name"].IsScalar()) return r.Err(field + ".env", "entry without name");
      e.env.emplace_back(kv["name"].Scalar(), kv["value"].IsScalar() ? kv["value"].Scalar() : "");
    }
  }
  return e;
}

Result<UserEntry> ReadUser(DocReader& r, const YAML::Node& u, const std::string& field) {
  UserEntry e;
  e.source_file = r.file();
  AIC_ASSIGN_OR_RETURN(e.client_certificate, r.Path(u, "client-certificate", field));
  AIC_ASSIGN_OR_RETURN(e.client_key, r.Path(u, "client-key", field));
  AIC_ASSIGN_OR_RETURN(e.client_certificate_data, r.Data(u, "client-certificate-data", field));
  AIC_ASSIGN_OR_RETURN(e.client_key_data, r.Data(u, "client-key-data", field));
  AIC_ASSIGN_OR_RETURN(e.token, r.Str(u, "token", field));
  AIC_ASSIGN_OR_RETURN(e.token_file, r.Path(u, "tokenFile", field));
  if (u["exec"].IsDefined() && !u["exec"].IsNull()) {
    AIC_ASSIGN_OR_RETURN(e.exec, ReadExec(r, u["exec"], field + ".exec"));
  }
  return e;
}

Result<ContextEntry> ReadContext(DocReader& r, const YAML::Node& c, const std::string& field) {
  ContextEntry e;
  e.source_file = r.file();
  AIC_ASSIGN_OR_RETURN(e.cluster, r.Str(c, "cluster", field));
  AIC_ASSIGN_OR_RETURN(e.user, r.Str(c, "user", field));
  AIC_ASSIGN_OR_RETURN(e.ns, r.Str(c, "namespace", field));
  return e;
}

std::string JoinFiles(const std::vector<std::string>& files) {
  std::string out;
  for (const auto& f : files)
    out += (out.empty() ? "" : ":") + f;
  return out.empty() ? "(none)" : out;
}

}  // namespace

Result<Kubeconfig> Kubeconfig::Parse(std::string_view text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error(Code::kInvalidArgument, "kubeconfig {}: line {}, column {}: not valid YAML: {}",
                 path, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  Kubeconfig kc;
  kc.files_.push_back(path);
  if (!root.IsDefined() || root.IsNull()) return kc;  // an empty file, as kubectl allows
  std::string dir = fs::absolute(fs::path(path)).parent_path().string();
  DocReader r(path, dir);
  if (!root.IsMap()) return r.Err("(top level)", "expected a map with clusters, users, contexts");

  try {
    AIC_RETURN_IF_ERROR(ForEachNamed(r, root, "clusters", "cluster",
                                     [&](const auto& n, const auto& b, const auto& f) {
                                       AIC_ASSIGN_OR_RETURN(ClusterEntry e, ReadCluster(r, b, f));
                                       kc.clusters_.emplace(n, std::move(e));
                                       return Status::Ok();
                                     }));
    AIC_RETURN_IF_ERROR(
        ForEachNamed(r, root, "users", "user", [&](const auto& n, const auto& b, const auto& f) {
          AIC_ASSIGN_OR_RETURN(UserEntry e, ReadUser(r, b, f));
          kc.users_.emplace(n, std::move(e));
          return Status::Ok();
        }));
    AIC_RETURN_IF_ERROR(ForEachNamed(r, root, "contexts", "context",
                                     [&](const auto& n, const auto& b, const auto& f) {
                                       AIC_ASSIGN_OR_RETURN(ContextEntry e, ReadContext(r, b, f));
                                       kc.contexts_.emplace(n, std::move(e));
                                       return Status::Ok();
                                     }));
    AIC_ASSIGN_OR_RETURN(kc.current_context_, r.Str(root, "current-context", ""));
  } catch (const YAML::Exception& e) {
    return Error(Code::kInvalidArgument, "kubeconfig {}: line {}: {}", path, e.mark.line + 1,
                 e.msg);
  }
  return kc;
}

Result<Kubeconfig> Kubeconfig::LoadFile(const std::string& path) {
  AIC_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, "kubeconfig"));
  return Parse(text, path);
}

void Kubeconfig::MergeFrom(const Kubeconfig& other) {
  for (const auto& [k, v] : other.clusters_)
    clusters_.emplace(k, v);
  for (const auto& [k, v] : other.users_)
    users_.emplace(k, v);
  for (const auto& [k, v] : other.contexts_)
    contexts_.emplace(k, v);
  if (current_context_.empty()) current_context_ = other.current_context_;
  files_.insert(files_.end(), other.files_.begin(), other.files_.end());
}

Result<Kubeconfig> Kubeconfig::LoadMerged(const std::vector<std::string>& paths) {
  Kubeconfig merged;
  std::set<std::string> seen;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!seen.insert(fs::absolute(path, ec).lexically_normal().string()).second) continue;
    if (!fs::exists(path, ec)) continue;
    AIC_ASSIGN_OR_RETURN(Kubeconfig one, LoadFile(path));
    merged.MergeFrom(one);
  }
  if (merged.files_.empty()) {
    return Error(Code::kInvalidArgument, "no kubeconfig file exists among {}", JoinFiles(paths));
  }
  return merged;
}

Result<Kubeconfig> Kubeconfig::LoadDefault(const std::string& explicit_path) {
  if (!explicit_path.empty()) return LoadFile(explicit_path);
  const char* env = std::getenv("KUBECONFIG");
  if (env && *env) {
    auto paths = SplitKubeconfigPath(env);
    if (!paths.empty()) return LoadMerged(paths);
  }
  const char* home = std::getenv("HOME");
  if (!home) return Status(Code::kInvalidArgument, "KUBECONFIG and HOME are not set");
  return LoadFile((fs::path(home) / ".kube" / "config").string());
}

namespace {

// Whether `pem` holds a block of `type` ("CERTIFICATE", "PRIVATE KEY" also matching "EC PRIVATE
// KEY" and "RSA PRIVATE KEY"). Checked here so that a wrong file names its kubeconfig field,
// where the TLS library would only say that it cannot load a blob.
bool HasPemBlock(const std::string& pem, std::string_view type) {
  for (size_t at = pem.find("-----BEGIN "); at != std::string::npos;
       at = pem.find("-----BEGIN ", at + 1)) {
    size_t end = pem.find("-----", at + 11);
    if (end == std::string::npos) return false;
    std::string_view label = std::string_view(pem).substr(at + 11, end - at - 11);
    if (label.size() >= type.size() && label.substr(label.size() - type.size()) == type) {
      return true;
    }
  }
  return false;
}

// The field a PEM value came from: the path field when the inline data was not set.
std::string PemSource(const std::string& data, const char* field, const std::string& path) {
  if (!data.empty()) return std::string(field) + "-data";
  return fmt::format("{} {}", field, path);
}

// Fills the server and TLS settings of `rc` from cluster `name`.
Status ResolveCluster(const ClusterEntry& cl, const std::string& name, RestConfig* rc) {
  rc->cluster = cl;
  rc->server = cl.server;
  if (rc->server.empty()) {
    return Error(Code::kInvalidArgument, "kubeconfig {}: cluster \"{}\": server is not set",
                 cl.source_file, name);
  }
  if (rc->server.find("://") == std::string::npos) rc->server = "https://" + rc->server;
  while (rc->server.size() > 1 && rc->server.back() == '/')
    rc->server.pop_back();
  if (cl.insecure_skip_tls_verify &&
      !(cl.certificate_authority.empty() && cl.certificate_authority_data.empty())) {
    // kubectl refuses this too: which of the two was meant is not clear.
    return Error(Code::kInvalidArgument,
                 "kubeconfig {}: cluster \"{}\": insecure-skip-tls-verify is set together with {}; "
                 "remove one of them",
                 cl.source_file, name,
                 cl.certificate_authority_data.empty() ? "certificate-authority"
                                                       : "certificate-authority-data");
  }
  rc->tls.insecure_skip_verify = cl.insecure_skip_tls_verify;
  rc->tls.server_name = cl.tls_server_name;
  rc->proxy = cl.proxy_url;
  rc->tls.ca_pem = cl.certificate_authority_data;
  if (rc->tls.ca_pem.empty() && !cl.certificate_authority.empty()) {
    auto pem = ReadWholeFile(cl.certificate_authority,
                             fmt::format("certificate-authority of cluster \"{}\":", name));
    if (!pem.ok()) return pem.status().Prefixed("kubeconfig " + cl.source_file);
    rc->tls.ca_pem = std::move(*pem);
  }
  if (!rc->tls.ca_pem.empty() && !HasPemBlock(rc->tls.ca_pem, "CERTIFICATE")) {
    return Error(Code::kInvalidArgument,
                 "kubeconfig {}: cluster \"{}\": {} holds no PEM certificate", cl.source_file, name,
                 PemSource(cl.certificate_authority_data, "certificate-authority",
                           cl.certificate_authority));
  }
  return Status::Ok();
}

// Fills the credentials of `rc` from user `name`, reading certificate and key files.
Status ResolveUser(const UserEntry& user, const std::string& name, RestConfig* rc) {
  rc->tls.client_cert_pem = user.client_certificate_data;
  rc->tls.client_key_pem = user.client_key_data;
  auto read = [&](const std::string& path, const char* field, std::string* out) -> Status {
    if (!out->empty() || path.empty()) return Status::Ok();
    auto data = ReadWholeFile(path, fmt::format("{} of user \"{}\":", field, name));
    if (!data.ok()) return data.status().Prefixed("kubeconfig " + user.source_file);
    *out = std::move(*data);
    return Status::Ok();
  };
  AIC_RETURN_IF_ERROR(
      read(user.client_certificate, "client-certificate", &rc->tls.client_cert_pem));
  AIC_RETURN_IF_ERROR(read(user.client_key, "client-key", &rc->tls.client_key_pem));
  if (rc->tls.client_cert_pem.empty() != rc->tls.client_key_pem.empty()) {
    return Error(Code::kInvalidArgument,
                 "kubeconfig {}: user \"{}\": client certificate and client key must both be set",
                 user.source_file, name);
  }
  // The messages name the field, never the content: a key is a secret.
  if (!rc->tls.client_cert_pem.empty() && !HasPemBlock(rc->tls.client_cert_pem, "CERTIFICATE")) {
    return Error(
        Code::kInvalidArgument, "kubeconfig {}: user \"{}\": {} holds no PEM certificate",
        user.source_file, name,
        PemSource(user.client_certificate_data, "client-certificate", user.client_certificate));
  }
  if (!rc->tls.client_key_pem.empty() && !HasPemBlock(rc->tls.client_key_pem, "PRIVATE KEY")) {
    return Error(Code::kInvalidArgument, "kubeconfig {}: user \"{}\": {} holds no PEM private key",
                 user.source_file, name,
                 PemSource(user.client_key_data, "client-key", user.client_key));
  }
  rc->token = user.token;
  if (rc->token.empty()) rc->token_file = user.token_file;
  rc->exec = user.exec;
  return Status::Ok();
}

}  // namespace

Result<RestConfig> Kubeconfig::Resolve(const std::string& context) const {
  std::string name = context.empty() ? current_context_ : context;
  std::string files = JoinFiles(files_);
  if (name.empty()) {
    return Error(Code::kInvalidArgument,
                 "kubeconfig {}: current-context is not set; name a context", files);
  }
  auto ctx_it = contexts_.find(name);
  if (ctx_it == contexts_.end()) {
    std::string known;
    for (const auto& [k, v] : contexts_)
      known += (known.empty() ? "" : ", ") + k;
    return Error(Code::kInvalidArgument, "kubeconfig {}: context \"{}\" not found (known: {})",
                 files, name, known.empty() ? "none" : known);
  }
  const ContextEntry& c = ctx_it->second;
  auto cl_it = clusters_.find(c.cluster);
  if (cl_it == clusters_.end()) {
    return Error(Code::kInvalidArgument,
                 "kubeconfig {}: context \"{}\" names cluster \"{}\", which is not defined",
                 c.source_file, name, c.cluster);
  }
  RestConfig rc;
  rc.context = name;
  if (!c.ns.empty()) rc.ns = c.ns;
  AIC_RETURN_IF_ERROR(ResolveCluster(cl_it->second, c.cluster, &rc));
  if (c.user.empty()) return rc;
  auto u_it = users_.find(c.user);
  if (u_it == users_.end()) {
    return Error(Code::kInvalidArgument,
                 "kubeconfig {}: context \"{}\" names user \"{}\", which is not defined",
                 c.source_file, name, c.user);
  }
  AIC_RETURN_IF_ERROR(ResolveUser(u_it->second, c.user, &rc));
  return rc;
}

std::vector<std::string> SplitKubeconfigPath(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(':', start);
    if (end == std::string_view::npos) end = value.size();
    if (end > start) out.emplace_back(value.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0, padding = 0;
  for (char ch : text) {
    if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
    if (ch == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    int v;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '+')
      v = 62;
    else if (ch == '/')
      v = 63;
    else
      return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (bits >= 6 || padding > 2) return std::nullopt;
  return out;
}

std::string EncodeBase64(std::string_view data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    for (int s = 18; s >= 0; s -= 6)
      out.push_back(kAlphabet[(n >> s) & 63]);
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    unsigned n = static_cast<unsigned char>(data[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(data[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace aic::kube
