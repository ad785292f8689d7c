# Run by ctest (tests/packaging/CMakeLists.txt) with CORRAL_BUILD_DIR,
# CORRAL_SOURCE_DIR, WORK_DIR, CONSUMER_DIR, CXX_COMPILER, CXX_LAUNCHER.
cmake_minimum_required(VERSION 3.20)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# 1. Install into a scratch prefix.
run(${CMAKE_COMMAND} --install ${CORRAL_BUILD_DIR} --prefix ${prefix})

# 2. What an operator and a developer expect to find there.
foreach(bin corrald corralctl corral-agent corral-bench)
  if(NOT EXISTS ${prefix}/bin/${bin})
    message(FATAL_ERROR "not installed: bin/${bin}")
  endif()
endforeach()
foreach(f include/corral/client/client.h include/corral/coordinator/base/result.h
          include/corral/schema/log_records.h lib/systemd/system/corrald.service
          lib/systemd/system/corral-agent.service)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB_RECURSE configs ${prefix}/lib*/corralConfig.cmake)
if(NOT configs)
  message(FATAL_ERROR "not installed: corralConfig.cmake")
endif()
# The installed package must not point back at the build or the source tree.
file(GLOB_RECURSE cmake_files ${prefix}/*.cmake)
foreach(f ${cmake_files})
  file(READ ${f} text)
  foreach(tree ${CORRAL_BUILD_DIR} ${CORRAL_SOURCE_DIR})
    string(FIND "${text}" "${tree}/" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} refers to ${tree}")
    endif()
  endforeach()
endforeach()

# 3. The installed binaries start (dynamic libraries resolve, --help works).
run(${prefix}/bin/corralctl --help)
run(${prefix}/bin/corrald --help)

# 4. A project of its own: find_package(corral), link corral::client, run.
set(configure_args -S ${CONSUMER_DIR} -B ${consumer_build}
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
if(CXX_LAUNCHER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER})
endif()
run(${CMAKE_COMMAND} ${configure_args})
run(${CMAKE_COMMAND} --build ${consumer_build})
run(${consumer_build}/corral_consumer --help)
if(NOT run_output MATCHES "usage: corral_consumer")
  message(FATAL_ERROR "unexpected --help output: ${run_output}")
endif()
run(${consumer_build}/corral_consumer --smoke)
if(NOT run_output MATCHES "smoke ok")
  message(FATAL_ERROR "unexpected --smoke output: ${run_output}")
endif()
message(STATUS "packaging: installed to ${prefix}, consumer built and ran")
