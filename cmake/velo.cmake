# Test helpers, modelled on nng's nng_test().
#
# velo_unit_test(NAME SOURCES... LIBS libs...)
#   one cmocka executable; ctest name unit.NAME, label unit, 30 s timeout.
# velo_service_fixture(NAME COMMAND...)
#   svc.NAME.start (FIXTURES_SETUP NAME) runs tests/harness/svc.sh start,
#   svc.NAME.stop (FIXTURES_CLEANUP NAME) stops it by PID.
# velo_integration_test(NAME FIXTURES COMMAND...)
#   ctest name integration.NAME, label integration, needs the fixtures.

set(VELO_RUN_DIR ${CMAKE_BINARY_DIR}/run CACHE INTERNAL "")

function(velo_unit_test name)
  cmake_parse_arguments(U "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${U_SOURCES})
  target_link_libraries(${name} PRIVATE ${U_LIBS} PkgConfig::CMOCKA)
  # Shared test fixtures (velo_test_*.h), e.g. the Kafka mock cluster.
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/util)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 30
    ENVIRONMENT "VELO_FIXTURES=${CMAKE_SOURCE_DIR}/tests/fixtures")
endfunction()

function(velo_service_fixture name)
  add_test(NAME svc.${name}.start
    COMMAND ${CMAKE_SOURCE_DIR}/tests/harness/svc.sh start ${name}
            ${VELO_RUN_DIR} ${ARGN})
  add_test(NAME svc.${name}.stop
    COMMAND ${CMAKE_SOURCE_DIR}/tests/harness/svc.sh stop ${name}
            ${VELO_RUN_DIR})
  set_tests_properties(svc.${name}.start PROPERTIES
    FIXTURES_SETUP ${name} LABELS integration TIMEOUT 120)
  set_tests_properties(svc.${name}.stop PROPERTIES
    FIXTURES_CLEANUP ${name} LABELS integration TIMEOUT 30)
endfunction()

function(velo_integration_test name)
  cmake_parse_arguments(I "" "TIMEOUT" "FIXTURES;COMMAND" ${ARGN})
  if(NOT I_TIMEOUT)
    set(I_TIMEOUT 120)
  endif()
  add_test(NAME integration.${name} COMMAND ${I_COMMAND})
  set_tests_properties(integration.${name} PROPERTIES
    LABELS integration TIMEOUT ${I_TIMEOUT} SKIP_RETURN_CODE 77
    FIXTURES_REQUIRED "${I_FIXTURES}"
    ENVIRONMENT "VELO_RUN_DIR=${VELO_RUN_DIR};VELO_BIN_DIR=${CMAKE_BINARY_DIR}/bin;VELO_SRC_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# velo_split_sources(DIR LIB_VAR TEST_VAR): the *.c of DIR, split into
# library modules and their *_test.c files; main.c belongs to neither.
function(velo_split_sources dir lib_var test_var)
  file(GLOB all_srcs CONFIGURE_DEPENDS ${dir}/*.c)
  set(lib_srcs)
  set(test_srcs)
  foreach(s ${all_srcs})
    if(s MATCHES "_test\\.c$")
      list(APPEND test_srcs ${s})
    elseif(NOT s MATCHES "/main\\.c$")
      list(APPEND lib_srcs ${s})
    endif()
  endforeach()
  set(${lib_var} ${lib_srcs} PARENT_SCOPE)
  set(${test_var} ${test_srcs} PARENT_SCOPE)
endfunction()

# velo_service(NAME [BINARY name] [LIBS ...]): services/<name>/ holds main.c
# (the binary, velo-NAME unless BINARY says otherwise), library modules *.c
# (lib<name>, tested without sockets) and their tests *_test.c (one unit
# test each). LIBS names the libvelo targets it uses (velo_core always):
# velo_kafka, velo_rpc, velo_http_client, velo_httpd, velo_db.
function(velo_service name)
  cmake_parse_arguments(S "" "BINARY" "LIBS" ${ARGN})
  if(NOT S_BINARY)
    set(S_BINARY velo-${name})
  endif()
  velo_split_sources(${CMAKE_CURRENT_SOURCE_DIR} lib_srcs test_srcs)
  set(deps velo_core ${S_LIBS})
  if(lib_srcs)
    add_library(${name}_lib STATIC ${lib_srcs})
    target_include_directories(${name}_lib PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${name}_lib PUBLIC velo_core ${S_LIBS})
    set(deps ${name}_lib)
  endif()
  add_executable(${S_BINARY} ${CMAKE_CURRENT_SOURCE_DIR}/main.c)
  target_link_libraries(${S_BINARY} PRIVATE ${deps})
  set_target_properties(${S_BINARY} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  foreach(t ${test_srcs})
    get_filename_component(tname ${t} NAME_WE)
    velo_unit_test(${name}_${tname} SOURCES ${t} LIBS ${deps})
  endforeach()
endfunction()
