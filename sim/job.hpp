#pragma once
// An offline job: work that is not a stream of requests through a pipeline — train a model from
// data and evaluate it, optimise parameters over rounds, train agents over episodes. A job type
// lives in one file (jobs/) with its option group and one registry line, like a stage. The engine
// runs it once per (configuration, replication) with the same experiment files, grids, variants,
// --set, seeds, journal, --resume, threads, MPI ranks, shards and HDF5 output as a simulation.
//
// A job returns named result arrays of a fixed shape per configuration: scalars, vectors over an
// axis with coordinates (HR@K over K = 5, 10, 20), or series over rounds or epochs. They are
// written to /metrics/<name> [task, replication, ...axes] and the coordinates to /axes/<axis>.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/random.hpp"
#include "sim/world.hpp"

namespace stagesim {

// A trailing dimension of result arrays, with a coordinate per index (written to /axes/<name>).
struct JobAxis {
  std::string name;  // e.g. "round", "epoch", "k", "item"
  std::string units;
  std::vector<double> values;
};

// `count` evenly spaced points of 1..total, as the engine places metric checkpoints
// ((j + 1)·total / count), preceded by 0 when `start`: the coordinates of a series over rounds.
inline std::vector<double> checkpoint_values(std::int64_t total, std::int64_t count,
                                             bool start = false) {
  std::vector<double> v;
  if (start) v.push_back(0);
  for (std::int64_t j = 0; j < count; ++j)
    v.push_back(static_cast<double>(((j + 1) * total) / count));
  return v;
}

struct JobOutput {
  std::string name;  // dataset under /metrics
  std::string units;
  std::string description;
  std::vector<std::string> axes;  // names of JobBuild::axes, outermost first; {} = a scalar
};

// What a running job may ask of the engine.
class JobContext {
 public:
  virtual ~JobContext() = default;
  // The task's streams: key().stream("purpose"). Keyed by (master seed, the job's resolved
  // configuration, replication), so numbers never depend on threads, ranks or task order.
  virtual const StreamKey& key() const = 0;
  virtual std::size_t replication() const = 0;
  // The configuration's index in the experiment file (grid point × variant, 0-based; the same
  // when --variant builds a subset) and the master seed: for job types that must reproduce a
  // seeding by position (see jobs/pool_learning.cpp).
  virtual std::size_t task() const = 0;
  virtual std::uint64_t master_seed() const = 0;
  // The configuration's [world] for this replication, built from the world's own streams (keyed
  // by the resolved [world] table). Throws ConfigError when the file has no [world].
  virtual std::unique_ptr<World> make_world() const = 0;
  // Output i (JobBuild::outputs order), row-major over its axes. NaN until written; a value left
  // NaN is recorded as NaN (e.g. a curve after early stopping).
  virtual std::span<double> output(std::size_t i) = 0;
  // Progress: `work` more of JobBuild::work done.
  virtual void advance(std::int64_t work) = 0;
};

class Job {
 public:
  virtual ~Job() = default;
  // Runs one replication; fills the outputs. Exceptions fail the task (reported with its id).
  virtual void run(JobContext& ctx) = 0;
};

struct JobBuild {
  std::function<std::unique_ptr<Job>()> make;
  std::vector<JobAxis> axes;
  std::vector<JobOutput> outputs;
  double cost = 0;  // rough flops per replication, for scheduling and `stagesim check`
  // Work a job caches per process and shares between configurations (e.g. a world's pipeline
  // models, built once per replication for every learner trained on them): configurations with
  // the same non-empty shared_scope count shared_cost once per replication in estimates.
  double shared_cost = 0;
  std::string shared_scope;
  double bytes = 0;       // memory one running replication holds (beyond shared data)
  std::int64_t work = 1;  // what JobContext::advance counts up to in one replication
  std::string work_units = "steps";
};

}  // namespace stagesim
