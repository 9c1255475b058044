// Turns SIGINT and SIGTERM into cancellation of a Context, so that an interrupted command
// unwinds through its normal error paths and cleans up what it started.
#pragma once

#include "common/context.h"

namespace aic {

// Blocks SIGINT/SIGTERM in the calling thread (and threads it starts later) and starts a
// thread that cancels `ctx` when one arrives. Call once, early in main, before other threads.
void CancelOnSignal(const Context& ctx);

// True once a signal has been received.
bool Interrupted();

}  // namespace aic
