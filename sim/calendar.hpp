#pragma once
// The discrete-event calendar: events ordered by time, then by kind (feedback before clock
// updates at the same instant), then by insertion order, so the order never depends on the heap.
#include <cstdint>
#include <queue>
#include <vector>

namespace stagesim {

enum class EventKind : int { feedback = 0, clock_update = 1 };

struct Event {
  double time = 0;
  EventKind kind = EventKind::feedback;
  std::uint64_t seq = 0;
  std::size_t index = 0;  // meaning depends on kind (record slot, stage entry)
};

class Calendar {
 public:
  void push(double time, EventKind kind, std::size_t index) {
    heap_.push(Event{time, kind, seq_++, index});
  }
  // Pops the earliest event if its time is <= t.
  bool pop_until(double t, Event& e) {
    if (heap_.empty() || heap_.top().time > t) return false;
    e = heap_.top();
    heap_.pop();
    return true;
  }
  bool empty() const { return heap_.empty(); }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      if (a.time != b.time) return a.time > b.time;
      if (a.kind != b.kind) return a.kind > b.kind;
      return a.seq > b.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace stagesim
