#include "common/log.h"

#include <map>
#include <mutex>
#include <regex>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace aic::log {
namespace {

// A formatter flag that redacts the message before it is written.
class RedactingSink : public spdlog::sinks::sink {
 public:
  explicit RedactingSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    std::string clean = Redact(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy(msg.time, msg.source, msg.logger_name, msg.level, clean);
    inner_->log(copy);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override {
    inner_->set_formatter(std::move(f));
  }

 private:
  spdlog::sink_ptr inner_;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum level = spdlog::level::warn;
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry();
    auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    err->set_pattern("aiconform: %n: %l: %v");
    reg->sinks.push_back(std::make_shared<RedactingSink>(err));
    return reg;
  }();
  return *r;
}

}  // namespace

std::shared_ptr<spdlog::logger> Get(const std::string& component) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.loggers.find(component);
  if (it != r.loggers.end()) return it->second;
  auto logger = std::make_shared<spdlog::logger>(component, r.sinks.begin(), r.sinks.end());
  logger->set_level(r.level);
  r.loggers.emplace(component, logger);
  return logger;
}

bool SetLevel(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") return false;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.level = parsed;
  for (auto& [name, logger] : r.loggers)
    logger->set_level(parsed);
  return true;
}

bool SetFile(const std::string& path) {
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> file;
  try {
    file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  } catch (const spdlog::spdlog_ex&) {
    return false;
  }
  file->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n %l %v");
  auto sink = std::make_shared<RedactingSink>(file);
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.sinks.push_back(sink);
  for (auto& [name, logger] : r.loggers)
    logger->sinks().push_back(sink);
  return true;
}

std::string Redact(std::string_view text) {
  static const std::vector<std::regex> patterns = {
      std::regex(R"((Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+)", std::regex::icase),
      std::regex(R"(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)"),
      std::regex(
          R"re(("?(token|access_token|refresh_token|client_secret|password|secret|client-key-data|id_token)"?\s*[:=]\s*"?)[^"\s,&}]+)re",
          std::regex::icase),
      // A JSON Web Token (ServiceAccount and OIDC tokens) wherever it stands: header and
      // payload are base64url JSON objects, so both begin with "eyJ".
      std::regex(R"(eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)"),
  };
  std::string out(text);
  out = std::regex_replace(out, patterns[0], "$1 [redacted]");
  out = std::regex_replace(out, patterns[1], "[redacted private key]");
  out = std::regex_replace(out, patterns[2], "$1[redacted]");
  out = std::regex_replace(out, patterns[3], "[redacted token]");
  return out;
}

}  // namespace aic::log
