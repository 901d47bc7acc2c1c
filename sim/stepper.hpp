#pragma once
// One task's system stepped request by request from outside (an RL agent, a notebook): the same
// world, streams, pipeline and feedback as `stagesim run` gives that task, with an agent setting
// the action of one `external` stage before each request. Python wraps it as stagesim.Env
// (Gymnasium's reset/step protocol).
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/experiment.hpp"
#include "sim/request_stream.hpp"
#include "sim/system.hpp"

namespace stagesim {

class Stepper {
 public:
  // Task `config` of `ex`; `agent` names the stage the agent drives ("" = none: the pipeline
  // runs as configured).
  Stepper(std::shared_ptr<const Experiment> ex, std::size_t config, std::string agent);
  ~Stepper();

  // Starts replication `replication` from its beginning and draws its first request.
  void reset(std::uint64_t replication);
  // The request the next step serves.
  const Request& request() const { return *req_; }
  // Serves the current request with `action` for the agent's stage (empty = keep the previous
  // one), lets the stages learn, and draws the next request unless the horizon is reached.
  void step(std::span<const double> action);

  std::size_t action_size() const { return action_size_; }
  std::int64_t steps() const { return steps_; }  // requests served since reset
  std::int64_t horizon() const { return cfg_->horizon; }
  bool done() const { return steps_ >= cfg_->horizon; }
  const Config& config() const { return *cfg_; }
  // The last step's slate, outcomes [position × objective], the agent stage's scalarised reward
  // (its `objective`, summed over the slate) and the session events it caused.
  std::span<const int> served() const { return system_->served(); }
  std::span<const double> outcomes() const { return system_->outcomes(); }
  double reward() const { return reward_; }
  const std::vector<World::SessionEvent>& events() const { return events_; }

 private:
  std::shared_ptr<const Experiment> ex_;
  const Config* cfg_;
  std::string agent_;
  std::vector<double> weights_;  // agent objective's weights over the world's objectives
  std::size_t action_size_ = 0;
  std::unique_ptr<World> world_;
  std::unique_ptr<System> system_;
  std::unique_ptr<RequestStream> stream_;
  std::shared_ptr<Request> req_;
  std::int64_t steps_ = 0;
  double reward_ = 0;
  std::vector<World::SessionEvent> events_;
};

}  // namespace stagesim
