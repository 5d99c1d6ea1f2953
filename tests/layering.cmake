# The layers of docs/design.md section 1: every #include "dir/..." in the library and
# the app may only name a folder of a lower layer, or its own. Siblings in one layer
# (nn, optim, pde, io, config, runtime; pinn and operators) do not include each other.
#   layer 0: core
#   layer 1: nn optim pde io config runtime
#   layer 2: train
#   layer 3: mesh
#   layer 4: data
#   layer 5: pinn operators
#   layer 6: hypernet
#   layer 7: cli (app/cli), c (app/c: the C API and libkpde.so)
set(layer_core 0)
foreach(d nn optim pde io config runtime)
  set(layer_${d} 1)
endforeach()
set(layer_train 2)
set(layer_mesh 3)
set(layer_data 4)
set(layer_pinn 5)
set(layer_operators 5)
set(layer_hypernet 6)
set(layer_cli 7)
set(layer_c 7)
set(folders src/core src/nn src/optim src/pde src/io src/config src/runtime src/train mesh data pinn operators hypernet
            app/cli app/c)
set(violations "")
set(checked 0)
foreach(folder ${folders})
  get_filename_component(self ${folder} NAME)
  file(GLOB_RECURSE files ${ROOT}/${folder}/*.hpp ${ROOT}/${folder}/*.cpp)
  foreach(f ${files})
    file(STRINGS ${f} includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"[a-z_]+/")
    foreach(line ${includes})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([a-z_]+)/.*" "\\1" target "${line}")
      math(EXPR checked "${checked} + 1")
      if(target STREQUAL self)
        continue()
      endif()
      if(NOT DEFINED layer_${target})
        list(APPEND violations "${f}: includes \"${target}/...\", a folder outside the layers")
        continue()
      endif()
      if(NOT layer_${target} LESS layer_${self})
        file(RELATIVE_PATH rel ${ROOT} ${f})
        list(APPEND violations "${rel}: ${line} (layer ${layer_${target}} from layer ${layer_${self}})")
      endif()
    endforeach()
  endforeach()
endforeach()
if(violations)
  string(REPLACE ";" "\n  " text "${violations}")
  message(FATAL_ERROR "includes against the layers (docs/design.md section 1):\n  ${text}")
endif()
message(STATUS "layering: ${checked} includes checked, none goes up or sideways")
