#pragma once
// One replication's stream of requests: arrival times, delay draws and the world's next request,
// from the world's streams. The runner and the stepper (sim/stepper.hpp) both draw through it, so
// an agent stepping a system sees exactly the requests a run gives that system.
#include <cstdint>

#include <boost/random/exponential_distribution.hpp>

#include "sim/experiment.hpp"
#include "sim/random.hpp"
#include "sim/world.hpp"

namespace stagesim {

class RequestStream {
 public:
  // `delays`: some system on this stream has random feedback delays (their draws are shared).
  RequestStream(const Config& c, const StreamKey& world_key, bool delays)
      : fixed_(c.arrivals == ArrivalProcess::fixed),
        rate_(c.rate),
        slate_(c.slate),
        delays_(delays),
        arrivals_(world_key.stream("arrivals")),
        delay_rng_(world_key.stream("delays")) {}

  // Fills `req` as request number i (i = 0, 1, ... in order).
  void next(World& world, Request& req, std::int64_t i) {
    t_ = fixed_ ? static_cast<double>(i) / rate_ : t_ + exp1_(arrivals_) / rate_;
    req.index = i;
    req.time = t_;
    req.delay_draw = delays_ ? exp1_(delay_rng_) : 0.0;
    world.next(req, slate_);  // a world that owns its arrivals sets req.time itself
  }

 private:
  bool fixed_;
  double rate_;
  int slate_;
  bool delays_;
  Rng arrivals_, delay_rng_;
  boost::random::exponential_distribution<double> exp1_{1.0};
  double t_ = 0;
};

}  // namespace stagesim
