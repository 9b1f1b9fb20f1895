# Helpers for llmetrics' own executables (not installed).

# Warning flags CI enforces on g++-12 and clang++-14.
add_library(llmetrics_warnings INTERFACE)
target_compile_options(llmetrics_warnings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic>
    $<$<AND:$<BOOL:${LLMETRICS_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang>>:-Werror>)

# llmetrics_add_program(<name> <source>... [LIBRARIES <lib>...])
# An executable in ${CMAKE_BINARY_DIR}/bin linking the whole library (serve included).
function(llmetrics_add_program name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "LIBRARIES")
    add_executable(${name} ${arg_UNPARSED_ARGUMENTS})
    target_link_libraries(${name} PRIVATE llmetrics::serve llmetrics_warnings ${arg_LIBRARIES})
    set_target_properties(${name} PROPERTIES CXX_EXTENSIONS OFF)
endfunction()
