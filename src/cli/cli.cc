#include "cli/cli.h"

#include <csignal>
#include <exception>
#include <iostream>
#include <vector>

#include "cli/commands.h"
#include "common/log.h"

namespace aic::cli {

int Main(int argc, char** argv) {
  CLI::App app{"aiconform: stand up an AI-conformant Kubernetes cluster and prove it"};
  app.require_subcommand(1);
  app.set_version_flag("--version", AIC_VERSION);
  GlobalOptions global;
  app.add_option("--log-level", global.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--log-file", global.log_file, "also write logs to this file");

  std::function<int()> run;
  for (const Command& c : CommandTable()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    auto runner = std::make_shared<std::function<int()>>(c.add(*sub, global));
    sub->callback([runner, &run] { run = *runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (!log::SetLevel(global.log_level)) {
    return ReportError("unknown --log-level \"" + global.log_level + "\"", kExitUsage);
  }
  if (!global.log_file.empty() && !log::SetFile(global.log_file)) {
    return ReportError("cannot open --log-file \"" + global.log_file + "\"", kExitUsage);
  }
  if (global.output != "table" && global.output != "json") {
    return ReportError("-o must be \"table\" or \"json\", not \"" + global.output + "\"",
                       kExitUsage);
  }
  if (!run) return kExitUsage;
  try {
    return run();
  } catch (const std::exception& e) {
    // A defect, not a user error; still an error line and an exit code rather than an abort.
    return ReportError(std::string("internal error: ") + e.what() + " (please report it)",
                       kExitFailure);
  }
}

}  // namespace aic::cli
