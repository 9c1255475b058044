// The command table. Each area contributes rows through a function of its own so that the
// table stays the one place that lists every subcommand.
#pragma once

#include <vector>

#include "cli/cli.h"

namespace aic::cli {

const std::vector<Command>& CommandTable();

}  // namespace aic::cli
