// MPI ranks as a Cluster: a work counter on rank 0 advanced with MPI_Fetch_and_op (passive
// one-sided, so rank 0 need not service requests), plus barrier, broadcast and OR-reduction.
#include <mpi.h>

#include "sim/cluster.hpp"

namespace stagesim {
namespace {

class MpiCluster final : public Cluster {
 public:
  MpiCluster() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Win_allocate(rank_ == 0 ? sizeof(long) : 0, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                     &base_, &win_);
    MPI_Win_lock_all(0, win_);
    if (rank_ == 0) {
      long zero = 0;
      MPI_Put(&zero, 1, MPI_LONG, 0, 0, 1, MPI_LONG, win_);
      MPI_Win_flush(0, win_);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  ~MpiCluster() override {
    MPI_Win_unlock_all(win_);
    MPI_Win_free(&win_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  long next() override {
    long one = 1, prev = 0;
    MPI_Fetch_and_op(&one, &prev, MPI_LONG, 0, 0, MPI_SUM, win_);
    MPI_Win_flush(0, win_);
    return prev;
  }
  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }
  void broadcast(std::vector<unsigned char>& bytes) override {
    unsigned long long n = bytes.size();
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    bytes.resize(n);
    if (n) MPI_Bcast(bytes.data(), static_cast<int>(n), MPI_UNSIGNED_CHAR, 0, MPI_COMM_WORLD);
  }
  bool any(bool flag) override {
    int in = flag ? 1 : 0, out = 0;
    MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    return out != 0;
  }

 private:
  int rank_ = 0, size_ = 1;
  void* base_ = nullptr;
  MPI_Win win_;
};

}  // namespace

std::unique_ptr<Cluster> make_mpi_cluster() {
  return std::make_unique<MpiCluster>();
}

}  // namespace stagesim
