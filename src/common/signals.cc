#include "common/signals.h"

#include <atomic>
#include <csignal>
#include <thread>

namespace aic {
namespace {
std::atomic<bool> interrupted{false};
}

void CancelOnSignal(const Context& ctx) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([ctx, set] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) {
      interrupted = true;
      ctx.Cancel();
    }
  }).detach();
}

bool Interrupted() {
  return interrupted.load();
}

}  // namespace aic
