#pragma once
// A tiny hypernetwork training configuration for tests (a few thousand parameters, small
// point sets): `pool` stored samples, `refresh` new ones per step.
#include "hypernet/objective.hpp"

namespace kpde::testing {

inline hypernet::ObjectiveSettings tiny_hypernet(int pool, int refresh) {
  hypernet::ObjectiveSettings s;
  hypernet::ModelSpec& m = s.model;
  m.input_pool = 8;
  m.stem = 8;
  m.widths = {8, 16};
  m.groups = 4;
  m.cond = 16;
  m.attention_heads = 2;
  m.head_hidden = 32;
  m.small_hidden = 16;
  m.head_groups = 4;
  s.data.mms.grid = hypernet::kGrid;
  s.data.mms.band_half_width = hypernet::kBandHalfWidth;
  s.data.mms.physics_only_fraction = 0.25;
  s.data.mms.n_interior = 0;
  s.data.mms.n_boundary = 0;
  s.data.seed = 3;
  s.data.size = pool;
  s.data.refresh = refresh;
  s.data.n_interior = 96;
  s.data.n_boundary = 48;
  s.data.stored_interior = 512;
  s.batch = 4;
  s.validation = 4;
  return s;
}

}  // namespace kpde::testing
