#include "sim/registry.hpp"

namespace stagesim {

// One line per component: declare its entry function here and add it below.
WorldEntry linear_world_entry();
WorldEntry embedding_world_entry();
WorldEntry fixed_context_world_entry();
WorldEntry tabular_world_entry();
WorldEntry kuairec_world_entry();
WorldEntry multilabel_bandit_world_entry();
WorldEntry multi_objective_linear_world_entry();
WorldEntry satisfaction_session_world_entry();
WorldEntry multi_metric_feed_world_entry();
WorldEntry kuairand_session_world_entry();
StageEntry lin_ucb_entry();
StageEntry greedy_entry();
StageEntry random_stage_entry();
StageEntry external_action_entry();
StageEntry pl_ranker_entry();
StageEntry late_ranker_entry();
StageEntry fusion_ranker_entry();
MetricEntry regret_metric_entry();
MetricEntry reward_metric_entry();
MetricEntry policy_value_metric_entry();
MetricEntry stage_stats_metric_entry();
MetricEntry session_metric_entry();
MetricEntry stage_log_metric_entry();
JobEntry pool_learning_job_entry();
JobEntry strategic_rounds_job_entry();
JobEntry multi_stage_rl_job_entry();
JobEntry kuairand_calibration_job_entry();
JobEntry full_stage_ltr_job_entry();

Registry builtin_registry() {
  Registry r;
  r.worlds.push_back(linear_world_entry());
  r.worlds.push_back(embedding_world_entry());
  r.worlds.push_back(fixed_context_world_entry());
  r.worlds.push_back(tabular_world_entry());
  r.worlds.push_back(kuairec_world_entry());
  r.worlds.push_back(multilabel_bandit_world_entry());
  r.worlds.push_back(multi_objective_linear_world_entry());
  r.worlds.push_back(satisfaction_session_world_entry());
  r.worlds.push_back(multi_metric_feed_world_entry());
  r.worlds.push_back(kuairand_session_world_entry());
  r.stages.push_back(lin_ucb_entry());
  r.stages.push_back(greedy_entry());
  r.stages.push_back(random_stage_entry());
  r.stages.push_back(external_action_entry());
  r.stages.push_back(pl_ranker_entry());
  r.stages.push_back(late_ranker_entry());
  r.stages.push_back(fusion_ranker_entry());
  r.metrics.push_back(regret_metric_entry());
  r.metrics.push_back(reward_metric_entry());
  r.metrics.push_back(policy_value_metric_entry());
  r.metrics.push_back(stage_stats_metric_entry());
  r.metrics.push_back(session_metric_entry());
  r.metrics.push_back(stage_log_metric_entry());
  r.jobs.push_back(pool_learning_job_entry());
  r.jobs.push_back(strategic_rounds_job_entry());
  r.jobs.push_back(multi_stage_rl_job_entry());
  r.jobs.push_back(kuairand_calibration_job_entry());
  r.jobs.push_back(full_stage_ltr_job_entry());
  return r;
}

}  // namespace stagesim
