// Levelled logs per component, one line per event. Callers never pass a token or key; as a
// second line of defence every message goes through Redact().
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace aic::log {

// The logger of one component ("kube", "local", "azure", ...), created on first use. Logs go
// to stderr at the level set by SetLevel (default: warn), and to a file when SetFile was
// called.
std::shared_ptr<spdlog::logger> Get(const std::string& component);

// "trace", "debug", "info", "warn", "error", "off". Unknown names leave the level unchanged
// and return false.
bool SetLevel(std::string_view level);

// Also writes every component's log lines to `path` (appending). Returns false when the file
// cannot be opened.
bool SetFile(const std::string& path);

// Replaces bearer tokens, private keys, passwords and secrets in `text` by "[redacted]".
std::string Redact(std::string_view text);

}  // namespace aic::log
