// Watches: one streaming request (WatchOnce), a watch that resumes after dropped connections
// (Watch), and list-then-watch (ListAndWatch).
#include "common/log.h"
#include "kube/client.h"
#include "kube/errors.h"

namespace aic::kube {
namespace {

// A watch the server ends sooner than this without sending an event counts as a failure.
constexpr auto kShortWatch = std::chrono::seconds(1);

std::optional<WatchEvent::Type> ParseType(const std::string& type) {
  if (type == "ADDED") return WatchEvent::Type::kAdded;
  if (type == "MODIFIED") return WatchEvent::Type::kModified;
  if (type == "DELETED") return WatchEvent::Type::kDeleted;
  if (type == "BOOKMARK") return WatchEvent::Type::kBookmark;
  return std::nullopt;
}

// Splits the newline-delimited stream into events and feeds them to the handler.
class EventStream {
 public:
  EventStream(const WatchHandler& handler, std::string what)
      : handler_(handler), what_(std::move(what)) {}

  // Returns false to end the transfer: the handler said so or the server sent an ERROR.
  bool Feed(std::string_view chunk) {
    buffer_.append(chunk);
    size_t start = 0;
    for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!Line(std::string_view(buffer_).substr(start, nl - start))) return false;
    }
    buffer_.erase(0, start);
    return true;
  }

  bool stopped() const { return stopped_; }
  const Status& error() const { return error_; }
  const std::string& resource_version() const { return resource_version_; }

 private:
  bool Line(std::string_view line) {
    json doc = json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("type")) return true;
    json& object = doc["object"];
    std::string type = doc.value("type", "");
    if (type == "ERROR") {
      error_ = StatusFromObject(what_, object.value("code", 500), object.value("reason", ""),
                                object.value("message", ""));
      return false;
    }
    auto parsed = ParseType(type);
    if (!parsed) return true;  // a type this client does not know: skip it
    if (object.contains("metadata")) {
      std::string rv = object["metadata"].value("resourceVersion", "");
      if (!rv.empty()) resource_version_ = rv;
    }
    WatchEvent event{*parsed, std::move(object)};
    if (!handler_(event)) {
      stopped_ = true;
      return false;
    }
    return true;
  }

  const WatchHandler& handler_;
  std::string what_;
  std::string buffer_;
  bool stopped_ = false;
  Status error_;
  std::string resource_version_;
};

}  // namespace

Status Client::WatchOnce(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                         const WatchOptions& options, const WatchHandler& handler, bool* stopped,
                         std::string* last_resource_version) {
  std::string what = "watch " + Describe(res, ns, "");
  EventStream stream(handler, what);
  Call call{"GET", res.Path(ns) + WatchQuery(options), "", "", what};
  call.on_body = [&stream](std::string_view chunk) { return stream.Feed(chunk); };
  auto result = SendOnce(ctx, call);
  if (stopped) *stopped = stream.stopped();
  if (last_resource_version && !stream.resource_version().empty()) {
    *last_resource_version = stream.resource_version();
  }
  if (!stream.error().ok()) return stream.error();
  if (stream.stopped()) return Status::Ok();
  return result.status();
}

Status Client::Watch(const Context& ctx, const ResourceInfo& res, std::string_view ns,
                     WatchOptions options, const WatchHandler& handler) {
  Backoff backoff(options_.backoff);
  int failures = 0;
  bool reauthenticated = false;
  for (;;) {
    bool stopped = false, saw_event = false;
    WatchHandler counting = [&](const WatchEvent& e) {
      saw_event = true;
      return handler(e);
    };
    auto started = Clock::now();
    Status s = WatchOnce(ctx, res, ns, options, counting, &stopped, &options.resource_version);
    if (stopped) return Status::Ok();
    AIC_RETURN_IF_ERROR(ctx.Check());
    if (s.code() == Code::kGone) return s;
    if (s.ok() && (saw_event || Clock::now() - started >= kShortWatch)) {
      failures = 0;  // the server ended the watch (its timeout): resume at once
      continue;
    }
    if (s.ok()) {
      // Ended at once with nothing in it: something between here and the server is wrong, and
      // resuming at once would hammer it. Back off as after a failure.
      s = Status(Code::kUnavailable, "the server ended the watch at once without an event");
    }
    if (saw_event) reauthenticated = false;
    if (s.http_status() == 401 && exec_ && !reauthenticated) {
      exec_->Invalidate();  // revoked before its expiry: ask the plugin once more, at once
      reauthenticated = true;
      continue;
    }
    if (!IsRetryable(s)) return s;
    failures = saw_event ? 1 : failures + 1;
    auto delay = backoff.Delay(failures, s.retry_after_seconds());
    log::Get("kube")->info("watch {} dropped: {}; resuming from resourceVersion {} in {} ms",
                           Describe(res, ns, ""), s.message(), options.resource_version,
                           delay.count());
    AIC_RETURN_IF_ERROR(ctx.Sleep(delay));
  }
}

Status ListAndWatch(Client& client, const Context& ctx, const ResourceInfo& res,
                    std::string_view ns, const ListOptions& selectors,
                    const InformerHandlers& handlers, int watch_timeout_seconds) {
  for (;;) {
    ListOptions list_options = selectors;
    list_options.continue_token.clear();
    AIC_ASSIGN_OR_RETURN(json list, client.ListAll(ctx, res, ns, list_options));
    if (handlers.on_sync) handlers.on_sync(list);

    WatchOptions watch;
    watch.label_selector = selectors.label_selector;
    watch.field_selector = selectors.field_selector;
    watch.resource_version = list["metadata"].value("resourceVersion", "");
    watch.timeout_seconds = watch_timeout_seconds;
    Status s = client.Watch(ctx, res, ns, watch, handlers.on_event);
    if (s.code() != Code::kGone) return s;
    log::Get("kube")->info("watch {}: {}; listing again", Describe(res, ns, ""), s.message());
  }
}

}  // namespace aic::kube
