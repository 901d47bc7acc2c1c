#pragma once
// The pipeline's per-request stage log: for every candidate the first layer saw, how deep it got,
// its position and score at each stage, whether it was exposed, and its outcomes. It is the
// training data of full-stage learning to rank and a debugging tool for any cascade. The
// `stage_log` metric writes it to the HDF5 file; learners that train from logs subscribe a
// StageLogRecorder to a System (System::subscribe) and read `log` in memory.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/metric.hpp"

namespace stagesim {

// Columnar rows; one row per (logged request, candidate of the first layer).
struct StageLog {
  std::vector<std::string> stages;      // stage entries, pipeline order
  std::vector<std::string> objectives;  // the world's, primary first
  std::vector<std::int64_t> request, user;
  std::vector<int> item;
  // 1 + the deepest layer whose candidates included the item (1 = dropped by the first layer;
  // the number of layers = it reached the last stage). 0 is left for rows a learner adds itself,
  // e.g. random pool samples in FS-LTR's labelling.
  std::vector<int> reached;
  std::vector<unsigned char> exposed;  // in the served slate
  std::vector<int> position;    // [row × stage]: position in the stage's output, -1 = not kept
  std::vector<double> score;    // [row × stage]: the stage's score, NaN = not scored/offered
  std::vector<double> outcome;  // [row × objective]: NaN unless exposed
  std::size_t rows() const { return item.size(); }
  void clear();
};

class StageLogRecorder final : public TraceSink {
 public:
  // every: log every n-th request; max_requests: stop after this many (0 = no limit).
  StageLogRecorder(const MetricSetup& setup, std::int64_t every = 1, std::int64_t max_requests = 0);
  void observe(const Trace& t) override;
  StageLog log;

 private:
  std::vector<int> level_;
  int levels_ = 0;
  std::int64_t every_, max_, seen_ = 0, logged_ = 0;
  // Per stage entry × item, valid where stamp == the current request's stamp.
  std::vector<unsigned> cand_stamp_, out_stamp_;
  std::vector<int> out_pos_;
  std::vector<double> score_;
  std::vector<unsigned> row_stamp_, exposed_stamp_;
  std::vector<int> exposed_pos_;
  std::vector<int> next_pos_;
  unsigned stamp_ = 0;
  std::size_t items_ = 0;
};

}  // namespace stagesim
