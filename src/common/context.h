// A deadline and a cancellation flag carried through a call chain. Every call that may block
// (HTTP, a wait for a process, a poll loop) takes a Context and gives up when it is done.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "common/status.h"

namespace aic {

using Clock = std::chrono::steady_clock;

class CancelFlag {
 public:
  void Cancel() {
    {
      std::lock_guard lock(mu_);
      cancelled_.store(true);
    }
    cv_.notify_all();
  }
  bool cancelled() const { return cancelled_.load(); }

  // Sleeps until `until` or until cancelled; returns false when cancelled.
  bool SleepUntil(Clock::time_point until) {
    std::unique_lock lock(mu_);
    return !cv_.wait_until(lock, until, [this] { return cancelled_.load(); });
  }

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

class Context {
 public:
  // A context with no deadline that nobody can cancel.
  Context() : flag_(std::make_shared<CancelFlag>()) {}

  static Context WithTimeout(std::chrono::milliseconds timeout) {
    Context ctx;
    ctx.deadline_ = Clock::now() + timeout;
    return ctx;
  }

  // A child shares the parent's cancellation and has the earlier of the two deadlines.
  Context Child(std::chrono::milliseconds timeout) const {
    Context ctx = *this;
    auto deadline = Clock::now() + timeout;
    if (deadline < ctx.deadline_) ctx.deadline_ = deadline;
    return ctx;
  }

  void Cancel() const { flag_->Cancel(); }
  bool cancelled() const { return flag_->cancelled(); }
  Clock::time_point deadline() const { return deadline_; }
  bool expired() const { return Clock::now() >= deadline_; }
  std::chrono::milliseconds remaining() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
  }

  // Ok while the context is live; Cancelled or DeadlineExceeded once it is done.
  Status Check() const {
    if (cancelled()) return Status(Code::kCancelled, "cancelled");
    if (expired()) return Status(Code::kDeadlineExceeded, "deadline exceeded");
    return Status::Ok();
  }

  // Sleeps for `d` or until the deadline or cancellation, whichever comes first; returns the
  // context's state afterwards.
  Status Sleep(std::chrono::milliseconds d) const {
    auto until = Clock::now() + d;
    if (until > deadline_) until = deadline_;
    flag_->SleepUntil(until);
    return Check();
  }

 private:
  std::shared_ptr<CancelFlag> flag_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

}  // namespace aic
