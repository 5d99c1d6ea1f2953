#pragma once
/// kpde's version, written into every model, checkpoint and dataset file.
namespace kpde {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace kpde
