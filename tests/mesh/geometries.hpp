#pragma once
// Shared test geometries of tests/mesh.
#include <cmath>

#include "mesh/geometry.hpp"
#include "mesh/shape.hpp"

namespace kpde::mesh::test_geometries {

inline constexpr double kPi = 3.14159265358979323846;

// [-1,1]^2 minus the disk "disk1" of radius r at (cx, cy).
inline Geometry box_minus_disk(double r = 0.5, double cx = 0.0, double cy = 0.0) {
  return Geometry(box({-1, -1}, {1, 1}) - disk("disk1", cx, cy, r));
}

// The L-shape [-1,1]^2 minus the quadrant rectangle "quad" = [0,1]^2 (HyPINO's PS-L).
inline Geometry l_shape() { return Geometry(box({-1, -1}, {1, 1}) - rectangle("quad", 0, 0, 1, 1)); }

// HyPINO's PS-C: [-1,1]^2 minus four disks of radius 0.2 at (+-0.6, +-0.6).
inline Geometry four_holes() {
  Shape s = box({-1, -1}, {1, 1});
  int k = 0;
  for (double cx : {-0.6, 0.6})
    for (double cy : {-0.6, 0.6}) s = s - disk("c" + std::to_string(k++), cx, cy, 0.2);
  return Geometry(s);
}

}  // namespace kpde::mesh::test_geometries
