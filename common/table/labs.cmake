# The lab table, read from common/include/nslab/labs.hpp: compiles and runs
# lab_table.cpp at configure time, includes what it prints and writes
# labs.tsv (number, name, kind, the layers it has) for bash (./nslab,
# bench/run). Sets NSLAB_LABS (the numbers, "00" ...), NSLAB_LAB_<NN>_NAME,
# _KIND (inspect, build, join), _COVERS (the other labs whose layers and
# claims it has), _TARGET (its executable) and NSLAB_LAB_TARGETS.
set(table_header "${CMAKE_SOURCE_DIR}/common/include/nslab/labs.hpp")
set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${table_header}" "${CMAKE_CURRENT_LIST_DIR}/lab_table.cpp")
try_run(table_ran table_compiled
    SOURCES "${CMAKE_CURRENT_LIST_DIR}/lab_table.cpp"
    CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${CMAKE_SOURCE_DIR}/common/include"
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    COMPILE_OUTPUT_VARIABLE table_compile_output
    RUN_OUTPUT_VARIABLE table_cmake)
if(NOT table_compiled OR NOT table_ran EQUAL 0)
  message(FATAL_ERROR "cannot read the lab table (${table_header}):\n${table_compile_output}")
endif()
file(WRITE "${CMAKE_BINARY_DIR}/labs.cmake" "${table_cmake}")
include("${CMAKE_BINARY_DIR}/labs.cmake")

set(NSLAB_LAB_TARGETS "")
set(table_tsv "")
foreach(number IN LISTS NSLAB_LABS)
  set(NSLAB_LAB_${number}_TARGET "lab${number}_${NSLAB_LAB_${number}_NAME}")
  list(APPEND NSLAB_LAB_TARGETS "${NSLAB_LAB_${number}_TARGET}")
  set(layers "")
  if(NSLAB_LAB_${number}_KIND STREQUAL "build")
    foreach(other IN LISTS NSLAB_LAB_${number}_COVERS)
      list(APPEND layers "${NSLAB_LAB_${other}_NAME}")
    endforeach()
    list(APPEND layers "${NSLAB_LAB_${number}_NAME}")
  endif()
  list(JOIN layers "," layers)
  string(APPEND table_tsv "${number}\t${NSLAB_LAB_${number}_NAME}\t${NSLAB_LAB_${number}_KIND}\t${layers}\n")
endforeach()
file(WRITE "${CMAKE_BINARY_DIR}/labs.tsv" "${table_tsv}")
