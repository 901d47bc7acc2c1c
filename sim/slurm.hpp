#pragma once
// `stagesim slurm FILE`: an sbatch script for a Slurm array job (one shard per array task, each
// resumable) whose task 0 also submits the merge step, to run once every shard succeeded.
#include <string>
#include <vector>

namespace stagesim {

struct SlurmOptions {
  std::string experiment;  // path of the experiment file
  std::string out;         // final HDF5 file
  std::string binary = "stagesim";
  int array = 8;
  std::string time = "04:00:00";
  int cpus = 2;
  std::string mem = "4G";
  std::string partition;
  std::vector<std::string> set;
  std::vector<std::string> variants;  // --variant names, passed on to every shard
  std::string units;                  // --units of every shard's run ("" = the default, auto)
};

std::string slurm_script(const SlurmOptions& o, const std::string& name);

}  // namespace stagesim
