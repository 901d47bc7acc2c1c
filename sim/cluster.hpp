#pragma once
// What the runner needs from a group of cooperating processes: a shared counter that hands out
// work (dynamic scheduling across ranks), a barrier, a broadcast from rank 0 and an OR-reduction.
// The single-process implementation is trivial; sim/mpi_cluster.cpp implements it with MPI.
#include <atomic>
#include <memory>
#include <vector>

namespace stagesim {

class Cluster {
 public:
  virtual ~Cluster() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  // Returns 0, 1, 2, ... across all processes together. Callers serialize calls within a process.
  virtual long next() = 0;
  virtual void barrier() {}
  virtual void broadcast(std::vector<unsigned char>& bytes) {}  // rank 0's bytes to everyone
  virtual bool any(bool flag) { return flag; }                  // true if any rank says true
};

class LocalCluster final : public Cluster {
 public:
  long next() override { return counter_++; }

 private:
  std::atomic<long> counter_{0};
};

#ifdef STAGESIM_WITH_MPI
// Requires MPI to be initialised with at least MPI_THREAD_SERIALIZED.
std::unique_ptr<Cluster> make_mpi_cluster();
#endif

}  // namespace stagesim
