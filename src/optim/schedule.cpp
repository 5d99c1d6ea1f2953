#include "optim/schedule.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "core/error.hpp"

namespace kpde::optim {

namespace {
constexpr double pi = 3.14159265358979323846;
}  // namespace

const char* to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::constant: return "constant";
    case ScheduleKind::exponential: return "exponential";
    case ScheduleKind::cosine: return "cosine";
    case ScheduleKind::onecycle: return "onecycle";
  }
  return "unknown";
}

double Schedule::lr_at(long step) const {
  KPDE_ASSERT(step >= 0, "Schedule::lr_at: step counts from 0");
  switch (kind) {
    case ScheduleKind::constant: return lr;
    case ScheduleKind::exponential:
      return lr * std::pow(decay_rate, static_cast<double>(step) / decay_steps);
    case ScheduleKind::cosine: {
      if (step < warmup_steps) return lr * static_cast<double>(step) / warmup_steps;
      if (step >= total_steps) return min_lr;
      const double progress =
          static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps);
      return min_lr + (lr - min_lr) * 0.5 * (1.0 + std::cos(pi * progress));
    }
    case ScheduleKind::onecycle: {
      const double a = lr / div_factor, z = a / final_div_factor;
      const double e1 = pct_start * total_steps - 1, e2 = total_steps - 1, t = static_cast<double>(step);
      const auto anneal = [](double x, double y, double f) { return y + (x - y) * 0.5 * (1.0 + std::cos(pi * f)); };
      if (t <= e1) return e1 > 0 ? anneal(a, lr, t / e1) : lr;
      if (t >= e2) return z;
      return anneal(lr, z, (t - e1) / (e2 - e1));
    }
  }
  return lr;
}

namespace {

[[noreturn]] void reject(const Schedule& s, const std::string& what) {
  std::ostringstream msg;
  msg << "learning-rate schedule (" << to_string(s.kind) << "): " << what;
  throw InputError(msg.str());
}

}  // namespace

void Schedule::validate() const {
  if (!std::isfinite(lr) || lr <= 0) {
    std::ostringstream m;
    m << "lr must be a finite number > 0, got " << lr;
    reject(*this, m.str());
  }
  if (kind != ScheduleKind::cosine && warmup_steps != 0) {
    reject(*this, "warmup_steps is only supported by the cosine schedule (got " +
                      std::to_string(warmup_steps) + ")");
  }
  switch (kind) {
    case ScheduleKind::constant: break;
    case ScheduleKind::exponential:
      if (!(decay_rate > 0 && decay_rate <= 1)) {
        std::ostringstream m;
        m << "decay_rate must be in (0, 1], got " << decay_rate;
        reject(*this, m.str());
      }
      if (decay_steps <= 0) {
        reject(*this, "decay_steps must be > 0, got " + std::to_string(decay_steps));
      }
      break;
    case ScheduleKind::cosine:
      if (total_steps <= 0) {
        reject(*this, "total_steps must be set (> 0), got " + std::to_string(total_steps));
      }
      if (warmup_steps < 0) {
        reject(*this, "warmup_steps must be >= 0, got " + std::to_string(warmup_steps));
      }
      if (warmup_steps >= total_steps) {
        reject(*this, "warmup_steps (" + std::to_string(warmup_steps) +
                          ") must be smaller than total_steps (" + std::to_string(total_steps) + ")");
      }
      if (!(min_lr >= 0 && min_lr <= lr)) {
        std::ostringstream m;
        m << "min_lr must be in [0, lr] = [0, " << lr << "], got " << min_lr;
        reject(*this, m.str());
      }
      break;
    case ScheduleKind::onecycle: {
      std::ostringstream m;
      if (total_steps <= 0) m << "total_steps must be set (> 0), got " << total_steps;
      else if (!(pct_start > 0 && pct_start < 1)) m << "pct_start must be in (0, 1), got " << pct_start;
      else if (!(div_factor >= 1 && std::isfinite(div_factor))) m << "div_factor must be >= 1, got " << div_factor;
      else if (!(final_div_factor >= 1 && std::isfinite(final_div_factor)))
        m << "final_div_factor must be >= 1, got " << final_div_factor;
      if (!m.str().empty()) reject(*this, m.str());
      break;
    }
  }
}

}  // namespace kpde::optim
