# Strict warning list (see doc/style.md). Applied per target.
set(STRATA_WARNINGS
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
    -Wpointer-arith -Wcast-align -Wformat=2 -Wvla -Wundef -Wno-unused-parameter)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(APPEND STRATA_WARNINGS -Wjump-misses-init)
endif()
function(strata_apply_warnings target)
  target_compile_options(${target} PRIVATE ${STRATA_WARNINGS})
  if(STRATA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
