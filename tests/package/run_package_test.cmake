# Installs the llmetrics build tree into a temporary prefix, then configures,
# builds and runs tests/package/ against it (all targets; serve alone without
# nlohmann_json), and once more with llmetrics added by add_subdirectory.
# Run by CTest as `cmake -D... -P`.
foreach(var LLMETRICS_BUILD_DIR LLMETRICS_SOURCE_DIR LLMETRICS_CONSUMER_DIR LLMETRICS_WORK_DIR LLMETRICS_CXX)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "${var} is not set")
    endif()
endforeach()

set(prefix ${LLMETRICS_WORK_DIR}/prefix)
set(build ${LLMETRICS_WORK_DIR}/build)
file(REMOVE_RECURSE ${LLMETRICS_WORK_DIR})

function(step)
    string(REPLACE ";" " " shown "${ARGN}")
    message(STATUS "$ ${shown}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${shown}")
    endif()
endfunction()

step(${CMAKE_COMMAND} --install ${LLMETRICS_BUILD_DIR} --prefix ${prefix})

set(generator)
if(LLMETRICS_GENERATOR)
    set(generator -G ${LLMETRICS_GENERATOR})
endif()

# configure_build_run(<build dir> <components, comma-separated, or ""> <programs> [extra cmake args...])
function(configure_build_run dir components programs)
    step(${CMAKE_COMMAND} -S ${LLMETRICS_CONSUMER_DIR} -B ${dir} ${generator}
        -DCMAKE_CXX_COMPILER=${LLMETRICS_CXX}
        "-DCMAKE_CXX_FLAGS=${LLMETRICS_CXX_FLAGS}"
        -DCMAKE_BUILD_TYPE=
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
        "-DLLMETRICS_COMPONENTS=${components}"  # comma-separated: execute_process splits at ';'
        ${ARGN})
    # Only the programs run here: the header-only serve program (the heaviest
    # compile) is built once, in the first run, not again in the other two.
    set(targets)
    foreach(program IN LISTS programs)
        list(APPEND targets llmetrics-package-${program})
    endforeach()
    step(${CMAKE_COMMAND} --build ${dir} --parallel 2 --target ${targets})
    foreach(program IN LISTS programs)
        step(${dir}/llmetrics-package-${program})
    endforeach()
endfunction()

# 1. Every target from the installed package.
configure_build_run(${build}/all "" "core;instrument;analytics;operate;serve;serve-header-only;llmetrics"
    -DCMAKE_PREFIX_PATH=${prefix} -DEXPECTED_PREFIX=${prefix})
# 2. COMPONENTS serve alone must not need nlohmann_json (made unfindable here).
configure_build_run(${build}/serve-only "serve" "serve"
    -DCMAKE_PREFIX_PATH=${prefix} -DEXPECTED_PREFIX=${prefix} -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON)
# 3. The source tree through add_subdirectory (builds the serve library itself).
configure_build_run(${build}/add-subdirectory "core,serve" "core;serve"
    -DLLMETRICS_ADD_SUBDIRECTORY=${LLMETRICS_SOURCE_DIR})
