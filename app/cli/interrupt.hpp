#pragma once
/// SIGINT / SIGTERM during training: the trainer stops after the step in progress and
/// writes its checkpoint (train::interrupt_requested); a second signal ends the process.
/// An InterruptScope installs the handler for its lifetime.
#include <csignal>

#include "train/stop.hpp"

namespace kpde::cli {

extern "C" inline void kpde_on_interrupt(int sig) {
  if (train::interrupt_requested().exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

struct InterruptScope {
  InterruptScope() {
    std::signal(SIGINT, kpde_on_interrupt);
    std::signal(SIGTERM, kpde_on_interrupt);
  }
  ~InterruptScope() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
};

}  // namespace kpde::cli
