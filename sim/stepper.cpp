#include "sim/stepper.hpp"

#include "sim/errors.hpp"

namespace stagesim {

Stepper::Stepper(std::shared_ptr<const Experiment> ex, std::size_t config, std::string agent)
    : ex_(std::move(ex)), agent_(std::move(agent)) {
  if (config >= ex_->configs.size())
    throw ConfigError("task " + std::to_string(config) + " does not exist: the experiment has " +
                      std::to_string(ex_->configs.size()) + " configurations (tasks 0.." +
                      std::to_string(ex_->configs.size() - 1) + ")");
  cfg_ = &ex_->configs[config];
  const std::size_t m = cfg_->world.objectives.size();
  weights_.assign(m, 0.0);
  weights_[0] = 1.0;  // the primary objective, unless the agent's stage names its own
  for (const StageSpec& s : cfg_->stages)
    if (s.name == agent_ && !s.objective_weights.empty()) weights_ = s.objective_weights;
  reset(0);
}

Stepper::~Stepper() = default;

void Stepper::reset(std::uint64_t replication) {
  if (replication >= static_cast<std::uint64_t>(ex_->replications))
    throw ConfigError("replication " + std::to_string(replication) +
                      " does not exist: the experiment has " + std::to_string(ex_->replications) +
                      " (raise experiment.replications to step further ones)");
  const StreamKey wkey{ex_->seed, cfg_->world_scope, replication};
  system_.reset();
  world_ = cfg_->world.make(wkey);
  system_ = std::make_unique<System>(*cfg_, ex_->seed, replication, *world_);
  action_size_ = agent_.empty() ? 0 : system_->action_size(agent_);
  stream_ = std::make_unique<RequestStream>(*cfg_, wkey, cfg_->delay == DelayModel::exponential);
  req_ = std::make_shared<Request>();
  steps_ = 0;
  reward_ = 0;
  events_.clear();
  stream_->next(*world_, *req_, 0);
}

void Stepper::step(std::span<const double> action) {
  if (done())
    throw ConfigError("the episode is over (" + std::to_string(cfg_->horizon) +
                      " requests = experiment.horizon); call reset()");
  if (!action.empty()) {
    if (agent_.empty())
      throw ConfigError("an action was given but no stage is driven by the agent (name one)");
    system_->set_action(agent_, action);
  }
  system_->advance(req_->time);
  system_->serve(req_, *world_);
  ++steps_;
  const std::span<const double> out = system_->outcomes();
  const std::size_t m = weights_.size();
  reward_ = 0;
  for (std::size_t l = 0; l * m < out.size(); ++l)
    for (std::size_t j = 0; j < m; ++j) reward_ += weights_[j] * out[l * m + j];
  const auto ev = world_->events();
  events_.assign(ev.begin(), ev.end());
  if (done()) return;
  if (req_.use_count() > 1) req_ = std::make_shared<Request>();  // delayed feedback holds it
  stream_->next(*world_, *req_, steps_);
}

}  // namespace stagesim
