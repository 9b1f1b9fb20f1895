# Helpers for llmetrics' own executables (not installed).

# Warning flags CI enforces on g++-12 and clang++-14.
add_library(llmetrics_warnings INTERFACE)
target_compile_options(llmetrics_warnings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic>
    $<$<AND:$<BOOL:${LLMETRICS_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang>>:-Werror>)

# llmetrics_add_program(<name> <source>... [TARGET <llmetrics target>] [LIBRARIES <lib>...])
# An executable in ${CMAKE_BINARY_DIR}/bin linking one llmetrics target: the
# layer it uses (llmetrics::core, ::instrument, ::analytics, ::operate, ::serve),
# llmetrics::llmetrics (everything) when TARGET is not given.
function(llmetrics_add_program name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "TARGET" "LIBRARIES")
    if(NOT arg_TARGET)
        set(arg_TARGET llmetrics::llmetrics)
    endif()
    add_executable(${name} ${arg_UNPARSED_ARGUMENTS})
    target_link_libraries(${name} PRIVATE ${arg_TARGET} llmetrics_warnings ${arg_LIBRARIES})
    set_target_properties(${name} PROPERTIES CXX_EXTENSIONS OFF)
endfunction()
