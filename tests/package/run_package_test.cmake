# Installs the llmetrics build tree into a temporary prefix, then configures,
# builds and runs tests/package/ against it. Run by CTest as `cmake -D... -P`.
foreach(var LLMETRICS_BUILD_DIR LLMETRICS_CONSUMER_DIR LLMETRICS_WORK_DIR LLMETRICS_CXX)
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
step(${CMAKE_COMMAND} -S ${LLMETRICS_CONSUMER_DIR} -B ${build} ${generator}
    -DCMAKE_PREFIX_PATH=${prefix}
    -DEXPECTED_PREFIX=${prefix}
    -DCMAKE_CXX_COMPILER=${LLMETRICS_CXX}
    "-DCMAKE_CXX_FLAGS=${LLMETRICS_CXX_FLAGS}"
    -DCMAKE_BUILD_TYPE=
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
step(${CMAKE_COMMAND} --build ${build} --parallel 2)
step(${build}/llmetrics-package-test)
step(${build}/llmetrics-package-serve-test)
