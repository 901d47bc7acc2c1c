// One task of an offline job: builds the job, hands it a JobContext (streams, the world, output
// arrays, progress) and places its outputs in the experiment's cell layout.
#include <algorithm>
#include <limits>

#include "sim/errors.hpp"
#include "sim/runner.hpp"

namespace stagesim {
namespace {

// Row-major copy of an array of extents `from` into one of extents `to` (each at least as large
// in every dimension: the experiment's dataset holds the largest configuration's extents).
void copy_shaped(std::span<const double> src, const std::vector<std::size_t>& from,
                 std::span<double> dst, const std::vector<std::size_t>& to) {
  std::size_t n = 1;
  for (std::size_t d : from) n *= d;
  std::vector<std::size_t> idx(from.size(), 0);
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t t = 0;
    for (std::size_t d = 0; d < from.size(); ++d) t = t * to[d] + idx[d];
    dst[t] = src[k];
    for (std::size_t d = from.size(); d-- > 0;) {  // next multi-index, last axis fastest
      if (++idx[d] < from[d]) break;
      idx[d] = 0;
    }
  }
}

class Context final : public JobContext {
 public:
  Context(const Experiment& ex, const Config& c, std::size_t rep,
          const std::function<void(std::int64_t)>& progress)
      : ex_(ex), c_(c), rep_(rep), progress_(progress), key_{ex.seed, c.job_scope, rep} {
    for (const JobOutput& o : c.job.outputs) {
      std::vector<std::size_t> shape;
      for (const std::string& a : o.axes)
        for (const JobAxis& ax : c.job.axes)
          if (ax.name == a) shape.push_back(ax.values.size());
      std::size_t n = 1;
      for (std::size_t d : shape) n *= d;
      shapes_.push_back(shape);
      outputs_.emplace_back(n, std::numeric_limits<double>::quiet_NaN());
      arrays_.push_back(ex.array(o.name));
    }
  }

  const StreamKey& key() const override { return key_; }
  std::size_t replication() const override { return rep_; }
  std::size_t task() const override { return c_.file_index; }
  std::uint64_t master_seed() const override { return ex_.seed; }
  std::unique_ptr<World> make_world() const override {
    if (!c_.world.make)
      throw ConfigError("job type '" + c_.job_type +
                        "' asked for a world, but the experiment has no [world] table; add one");
    return c_.world.make(StreamKey{ex_.seed, c_.world_scope, rep_});
  }
  std::span<double> output(std::size_t i) override { return outputs_.at(i); }
  void advance(std::int64_t work) override {
    // Progress counts up to JobBuild::work: a job that reports more is capped there.
    const std::int64_t next = std::min(c_.job.work, done_ + std::max<std::int64_t>(0, work));
    if (progress_ && next > done_) progress_(next - done_);
    done_ = next;
  }
  // At the end of the task: whatever the job did not report.
  void finish() { advance(c_.job.work - done_); }

  // The outputs in the experiment's cell layout (NaN past this configuration's extents).
  std::vector<double> cell() const {
    std::vector<double> v(ex_.cell_size, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < outputs_.size(); ++i)
      copy_shaped(outputs_[i], shapes_[i],
                  std::span(v).subspan(arrays_[i]->offset, arrays_[i]->size()), arrays_[i]->shape);
    return v;
  }

 private:
  const Experiment& ex_;
  const Config& c_;
  std::size_t rep_;
  const std::function<void(std::int64_t)>& progress_;
  StreamKey key_;
  std::vector<std::vector<std::size_t>> shapes_;
  std::vector<std::vector<double>> outputs_;
  std::vector<const ResultArray*> arrays_;
  std::int64_t done_ = 0;
};

}  // namespace

std::vector<CellResult> run_job_unit(const Experiment& ex, const Unit& unit,
                                     const std::function<void(std::int64_t)>& progress) {
  if (unit.configs.size() != 1) throw std::logic_error("a job unit holds one configuration");
  const Config& c = ex.configs[unit.configs.front()];
  Context ctx(ex, c, unit.replication, progress);
  std::unique_ptr<Job> job = c.job.make();
  job->run(ctx);
  ctx.finish();
  CellResult cell;
  cell.config = c.index;
  cell.replication = unit.replication;
  cell.values = ctx.cell();
  return {std::move(cell)};
}

}  // namespace stagesim
