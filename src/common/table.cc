#include "common/table.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include <fmt/format.h>

namespace aic {
namespace {

double Now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    out << line << "\n";
  }
}

void Progress::Start(const std::string& what) {
  if (open_) Done();
  open_ = true;
  started_ = Now();
  if (!quiet_) std::cerr << "• " << what << " ..." << std::flush;
}

void Progress::Done() {
  if (!open_) return;
  open_ = false;
  if (!quiet_) std::cerr << fmt::format(" done ({:.1f}s)\n", Now() - started_);
}

void Progress::Fail() {
  if (!open_) return;
  open_ = false;
  if (!quiet_) std::cerr << " failed\n";
}

void Progress::Note(const std::string& line) {
  if (open_) Done();
  if (!quiet_) std::cerr << "• " << line << "\n";
}

}  // namespace aic
