#pragma once
// Append-only journal of finished tasks. Each record is written and synced to disk before the
// worker takes its next unit, so an interrupted run loses at most the units in flight; --resume
// reads the journal back, drops a torn final record, and continues. The final HDF5 file is built
// from these records, so it is identical whether or not the run was interrupted. Long tasks also
// journal checkpoint records (TaskCheckpoint); --resume continues an unfinished task from its
// latest one. Checkpoints that a later one of the same task, or the task's finished cells,
// make obsolete are dropped by compaction (a copy renamed over the journal) once they outweigh
// both the live records and `compact_above` bytes, so a long run's journal stays within about
// twice its live size.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "sim/experiment.hpp"
#include "sim/results.hpp"

namespace stagesim {

class Journal {
 public:
  // Creates the journal (fails if one exists and !resume), or with resume reads the finished cells
  // into `results` (which must already be sized for `ex`).
  Journal(std::string path, const Experiment& ex, bool resume, Results& results,
          std::uint64_t compact_above = std::uint64_t{64} << 20);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one unit's cells and syncs; throws IoError (results already written stay intact).
  void append(const std::vector<CellResult>& cells);
  // Appends an unfinished task's checkpoint and syncs; throws IoError like append.
  void append(const TaskCheckpoint& checkpoint);
  // Latest checkpoint per task, key config * replications + replication.
  using Checkpoints = std::map<std::size_t, TaskCheckpoint>;
  // Deletes the journal file (after the final output was written).
  void remove();
  // Reads the complete records of a journal (e.g. another rank's) into `results` without
  // modifying it; throws like the constructor on a foreign or corrupt header.
  // With `checkpoints`, also keeps the latest checkpoint of every task found (a later one of the
  // same task replaces it).
  static std::size_t read_into(const std::string& path, const Experiment& ex, Results& results,
                               Checkpoints* checkpoints = nullptr);
  // The journals of a run writing `base`: base itself and base.<rank> for MPI ranks > 0.
  static std::vector<std::string> list(const std::string& base);
  const std::string& path() const { return path_; }
  std::size_t records_read() const { return records_read_; }
  // Bytes of obsolete checkpoint records still in the file, and how often it was compacted.
  std::uint64_t dead_bytes() const { return layout_.dead; }
  std::size_t compactions() const { return compactions_; }

  // Where a journal's records are, by kind: every record of finished cells, and per unfinished
  // task the record of its latest checkpoint; `dead` counts the bytes of all other checkpoints.
  struct Span {
    std::uint64_t offset = 0, size = 0;
  };
  struct Layout {
    std::vector<Span> cells;
    std::map<std::size_t, std::pair<Span, std::int64_t>> checkpoints;  // task -> record, position
    std::vector<bool> finished;                                        // by task
    std::uint64_t dead = 0;
    std::uint64_t live() const;
    // A checkpoint record of `task`: it replaces the task's latest unless that one is at a
    // later position (ties: the newer record), or is dead if the task has finished.
    void add_checkpoint(std::size_t task, Span span, std::int64_t position);
    // A record of finished cells: the tasks' checkpoints become dead.
    void add_cells(Span span, std::span<const std::size_t> tasks);
  };

 private:
  void write_all(const void* data, std::size_t n);
  // Returns the byte offset after the last complete record.
  static std::size_t load(const std::string& path, const Experiment& ex, Results& results,
                          std::size_t& records, Checkpoints* checkpoints, Layout* layout);
  // Appends one record; returns its span in the file.
  Span append_record(std::uint32_t magic, const std::vector<unsigned char>& payload);
  void compact_if_worthwhile();
  bool compact();
  std::string path_;
  int fd_ = -1;
  std::size_t series_, checkpoints_, tables_, replications_;
  std::size_t records_read_ = 0;
  std::uint64_t compact_above_;
  Layout layout_;
  std::size_t compactions_ = 0;
};

}  // namespace stagesim
