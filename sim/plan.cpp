#include "sim/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/estimate.hpp"

namespace stagesim {

std::optional<double> parse_slurm_time(const std::string& text) {
  long d = 0, a = 0, b = 0, c = 0;
  char extra = 0;
  std::string t = text;
  const std::size_t dash = t.find('-');
  if (dash != std::string::npos) {
    if (std::sscanf(t.substr(0, dash).c_str(), "%ld%c", &d, &extra) != 1) return std::nullopt;
    t = t.substr(dash + 1);
  }
  if (t.empty() || t.find_first_not_of("0123456789:") != std::string::npos) return std::nullopt;
  const int colons = static_cast<int>(std::count(t.begin(), t.end(), ':'));
  int n = -1;
  if (colons == 0 && std::sscanf(t.c_str(), "%ld%c", &a, &extra) == 1) n = 1;
  if (colons == 1 && std::sscanf(t.c_str(), "%ld:%ld%c", &a, &b, &extra) == 2) n = 2;
  if (colons == 2 && std::sscanf(t.c_str(), "%ld:%ld:%ld%c", &a, &b, &c, &extra) == 3) n = 3;
  if (n < 0 || d < 0) return std::nullopt;
  if (dash != std::string::npos)  // D-HH, D-HH:MM, D-HH:MM:SS
    return 86400.0 * d + 3600.0 * a + 60.0 * (n >= 2 ? b : 0) + (n == 3 ? c : 0);
  if (n == 1) return 60.0 * a;       // MM
  if (n == 2) return 60.0 * a + b;   // MM:SS
  return 3600.0 * a + 60.0 * b + c;  // HH:MM:SS
}

std::string human_duration(double s) {
  char buf[64];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%.0f h %.0f min", std::floor(s / 3600),
                  std::fmod(s, 3600) / 60);
  else
    std::snprintf(buf, sizeof buf, "%.1f days", s / 86400);
  return buf;
}

PlanSummary plan_summary(const Experiment& ex, UnitMode mode) {
  PlanSummary p;
  const std::vector<Unit> units = plan_units(ex, mode);
  p.units = units.size();
  const Unit* longest = nullptr;
  for (const Unit& u : units) {
    p.largest_unit = std::max(p.largest_unit, u.configs.size());
    if (!longest || u.cost > longest->cost) longest = &u;
  }
  if (ex.jobs)
    p.unit_rule = "one per task (offline job)";
  else if (p.largest_unit <= 1)
    p.unit_rule = "one per task";
  else
    p.unit_rule = "tasks on the same world and replication share a unit (up to " +
                  std::to_string(p.largest_unit) +
                  " configurations; the world draws each request once)";
  if (longest) {
    p.longest_seconds = estimate_seconds(longest->cost, 1);
    p.longest_task = task_name(ex, longest->configs.front(), longest->replication);
    try {  // builds its world and system once (cheap next to the run it plans)
      p.longest_checkpoints = unit_checkpoints(ex, *longest);
    } catch (const std::exception&) {
      p.longest_checkpoints = false;
    }
  }
  return p;
}

std::vector<std::string> plan_warnings(const PlanSummary& plan, int array,
                                       std::optional<double> time_limit,
                                       const std::string& time_text) {
  std::vector<std::string> w;
  if (array > 0 && static_cast<std::size_t>(array) > plan.units)
    w.push_back("--array " + std::to_string(array) + " exceeds the " + std::to_string(plan.units) +
                " work units: " + std::to_string(static_cast<std::size_t>(array) - plan.units) +
                " array tasks would have nothing to do; use --array " + std::to_string(plan.units) +
                " or fewer" +
                (plan.largest_unit > 1 ? " (or --units task for one unit per task)" : ""));
  if (time_limit && plan.longest_seconds > *time_limit && plan.longest_checkpoints)
    w.push_back("the longest work unit (" + plan.longest_task + ") is estimated at " +
                human_duration(plan.longest_seconds) + " on one thread, longer than --time " +
                time_text +
                "; it journals checkpoints, so a requeued array task continues it from the last "
                "one (lower --checkpoint-interval to lose less), but raise --time to avoid the "
                "requeues");
  else if (time_limit && plan.longest_seconds > *time_limit)
    w.push_back("the longest work unit (" + plan.longest_task + ") is estimated at " +
                human_duration(plan.longest_seconds) + " on one thread, longer than --time " +
                time_text +
                "; a requeued array task restarts an unfinished unit from its start, so raise "
                "--time" +
                (plan.largest_unit > 1 ? " or split units with --units task" : ""));
  return w;
}

}  // namespace stagesim
