// Plain-text tables for people: columns padded to their widest cell.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace aic {

class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Prints one step of a long operation to stderr: "• what ..." when it starts and
// " done (1.2s)" or " failed" when it ends. Steps do not nest.
class Progress {
 public:
  explicit Progress(bool quiet = false) : quiet_(quiet) {}
  void Start(const std::string& what);
  void Done();
  void Fail();
  void Note(const std::string& line);  // a line of its own, e.g. "etcd already running"

 private:
  bool quiet_;
  bool open_ = false;
  double started_ = 0;
};

}  // namespace aic
