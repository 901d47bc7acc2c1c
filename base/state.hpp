// Saved state of a running task (its stages, metrics, optimisers, random streams) as a flat byte
// string for the journal. Values are copied bit for bit, so a task restored from a checkpoint
// continues exactly as if it had never stopped. Read back by the same build only: the journal's
// experiment hash already ties a checkpoint to the resolved experiment.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "base/rng.hpp"

namespace stagesim {

class StateWriter {
 public:
  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put(const T& v) { raw(&v, sizeof(T)); }
  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    raw(v.data(), v.size() * sizeof(T));
  }
  template <class S, int R, int C, int O, int MR, int MC>
  void put(const Eigen::Matrix<S, R, C, O, MR, MC>& m) {
    put<std::int64_t>(m.rows());
    put<std::int64_t>(m.cols());
    raw(m.data(), static_cast<std::size_t>(m.size()) * sizeof(S));
  }
  template <class S, int R, int C, int O, int MR, int MC>
  void put(const std::vector<Eigen::Matrix<S, R, C, O, MR, MC>>& ms) {
    put<std::uint64_t>(ms.size());
    for (const auto& m : ms) put(m);
  }
  // A Mersenne twister through its portable text form (the full state, not a reseed). The
  // trailing blank lets Boost's reader finish its last number without meeting the end.
  void put(const Rng& rng) {
    std::ostringstream os;
    os << rng << ' ';
    put_string(os.str());
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  const std::vector<unsigned char>& bytes() const { return bytes_; }
  std::vector<unsigned char> take() { return std::move(bytes_); }

 private:
  std::vector<unsigned char> bytes_;
};

// Throws std::runtime_error when the bytes end early or a shape disagrees: a checkpoint that does
// not fit what it is restored into was written by another build or damaged on disk.
class StateReader {
 public:
  explicit StateReader(std::span<const unsigned char> bytes)
      : p_(bytes.data()), end_(p_ + bytes.size()) {}

  template <class T>
  requires std::is_trivially_copyable_v<T>
  void get(T& v) { raw(&v, sizeof(T)); }
  template <class T>
  requires std::is_trivially_copyable_v<T> T get() {
    T v;
    get(v);
    return v;
  }
  template <class T>
  requires std::is_trivially_copyable_v<T>
  void get(std::vector<T>& v) {
    const auto n = get<std::uint64_t>();
    need_items(n, sizeof(T));
    v.resize(n);
    raw(v.data(), n * sizeof(T));
  }
  template <class S, int R, int C, int O, int MR, int MC>
  void get(Eigen::Matrix<S, R, C, O, MR, MC>& m) {
    const auto rows = get<std::int64_t>(), cols = get<std::int64_t>();
    if (rows < 0 || cols < 0 || (R != Eigen::Dynamic && rows != R) ||
        (C != Eigen::Dynamic && cols != C))
      throw std::runtime_error("checkpoint: a matrix of another shape");
    if (cols != 0 && static_cast<std::uint64_t>(rows) > ~std::uint64_t{0} / cols)
      throw std::runtime_error("checkpoint: state ends early (written by another build?)");
    need_items(static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols), sizeof(S));
    m.resize(rows, cols);
    raw(m.data(), static_cast<std::size_t>(m.size()) * sizeof(S));
  }
  template <class S, int R, int C, int O, int MR, int MC>
  void get(std::vector<Eigen::Matrix<S, R, C, O, MR, MC>>& ms) {
    const auto n = get<std::uint64_t>();
    need_items(n, 2 * sizeof(std::int64_t));
    ms.resize(n);
    for (auto& m : ms) get(m);
  }
  // Into a matrix whose shape is fixed by its owner (a model's parameter): the shapes must agree.
  template <class S, int R, int C, int O, int MR, int MC>
  void get_same_shape(Eigen::Matrix<S, R, C, O, MR, MC>& m) {
    const Eigen::Index rows = m.rows(), cols = m.cols();
    get(m);
    if (m.rows() != rows || m.cols() != cols)
      throw std::runtime_error("checkpoint: a matrix of another shape");
  }
  void get(Rng& rng) {
    std::istringstream is(get_string());
    is >> rng;
    if (!is) throw std::runtime_error("checkpoint: corrupt random-stream state");
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    need_items(n, 1);
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  void raw(void* out, std::size_t n) {
    need_items(n, 1);
    if (n) std::memcpy(out, p_, n);
    p_ += n;
  }
  bool at_end() const { return p_ == end_; }

 private:
  void need_items(std::uint64_t n, std::size_t size) const {
    if (n > static_cast<std::uint64_t>(end_ - p_) / size)
      throw std::runtime_error("checkpoint: state ends early (written by another build?)");
  }
  const unsigned char* p_;
  const unsigned char* end_;
};

}  // namespace stagesim
