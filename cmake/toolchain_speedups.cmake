# ccache and mold make rebuilds on two cores bearable; both are optional.
find_program(ARLE_CCACHE ccache)
if(ARLE_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${ARLE_CCACHE})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${ARLE_CCACHE})
endif()

find_program(ARLE_MOLD mold)
if(ARLE_MOLD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_link_options(-fuse-ld=mold)
elseif(ARLE_MOLD AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_link_options(-fuse-ld=mold)
endif()

# The CUDA build must run on the GPU machine's newer Ubuntu with only the CUDA
# libraries from there, so the C++ runtime goes into the binary.
if(ARLE_STATIC_RUNTIME AND NOT ARLE_SANITIZE)
  add_link_options(-static-libstdc++ -static-libgcc)
endif()

if(ARLE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Fuzz builds instrument all ARLE code for coverage; the fuzzer targets add
# libFuzzer's main.
if(ARLE_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
