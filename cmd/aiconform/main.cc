#include "cli/cli.h"

int main(int argc, char** argv) {
  return aic::cli::Main(argc, argv);
}
