# ./nslab test beyond the unit tests and the graders, as ctest tests (issue
# 17): the skeleton, the mutants, batch grading, the reliability suite, the
# sanitizers and the VM. tests/run-all builds the trees, then runs ctest here
# and prints its summary; `./nslab test --label L` runs one label.
#
# They act on the build root this tree is in (NSLAB_BUILD_ROOT, or build/):
# the skeleton's tree (student/), the mutants' copy (mutant/, mutant-src/),
# the asan tree, the VM's kernel cache. Only the solutions tree has them.
#
# Labels: unit, graders, skeleton, mutants, grading, faults, sanitizers, vm
# (and docs, tool, fuzz; debian, which tests/run-all runs only when --label
# names it). What tests share is locked:
#   RESOURCE_LOCK mutant-tree  the one mutant build, patched per test
#   RESOURCE_LOCK vm           one qemu at a time (each takes both cores)
#   RUN_SERIAL                 a test that runs `nslab cleanup` (it removes
#                              what no live runtime owns: the cgroup parent,
#                              a lease, between another's steps)
# The bridge and the lease directory are shared by every container and made
# safe for that (docs/reliability.md: the graders run at once); the leak
# checks count only what their own runtimes made.
#
# Order (COST, highest first): the VM's tests, one after another, take the
# longest and wait on nothing of the host's, so they start first and run
# beside the rest; the asan build next; the tests that must run alone last,
# so none holds the queue while a VM runs.
get_filename_component(NSLAB_SUITE_ROOT "${CMAKE_BINARY_DIR}" DIRECTORY)
set(NSLAB_STUDENT_BUILD "${NSLAB_SUITE_ROOT}/student" CACHE PATH
    "the labs/ skeleton's build, which the skeleton.* tests grade")
set(suite_src "${CMAKE_SOURCE_DIR}")

# The skeleton: each lab's own claims fail, with one note per unwritten step.
foreach(number IN LISTS NSLAB_LABS)
  if(TARGET grade_lab${number})
    add_test(NAME skeleton.lab${number}
        COMMAND "${suite_src}/tests/grading/skeleton-check" "${NSLAB_STUDENT_BUILD}" ${number}
                "${NSLAB_SUITE_ROOT}/skeleton")
    set_tests_properties(skeleton.lab${number} PROPERTIES LABELS "skeleton;root" TIMEOUT 900)
  endif()
endforeach()

# The mutants: one test per patch; each must be caught by the claims it names.
# mutants.apply first checks, in a second, that each patch still applies.
add_test(NAME mutants.apply COMMAND "${suite_src}/tests/mutants/run" --check)
set_tests_properties(mutants.apply PROPERTIES LABELS mutants)
file(GLOB mutant_patches CONFIGURE_DEPENDS "${suite_src}/tests/mutants/*.patch")
set(vm_mutants "")
foreach(patch IN LISTS mutant_patches)
  get_filename_component(name "${patch}" NAME_WE)
  add_test(NAME mutant.${name} COMMAND "${suite_src}/tests/mutants/run" "${NSLAB_SUITE_ROOT}" "${patch}")
  # The first one also builds the mutant tree: up to the build's own time.
  set_tests_properties(mutant.${name} PROPERTIES LABELS "mutants;root" RESOURCE_LOCK mutant-tree
                       SKIP_RETURN_CODE 77 TIMEOUT 2400 COST 100)
  file(STRINGS "${patch}" unified REGEX "^# mode: *unified")
  if(unified OR name STREQUAL "01-no-clone-newpid")
    list(APPEND vm_mutants "${patch}")
  endif()
endforeach()

# Batch grading of a synthetic class.
add_test(NAME grading.submissions
    COMMAND "${suite_src}/tests/grading/submissions-test" "${NSLAB_SUITE_ROOT}" "$<TARGET_FILE:nslab-tool>")
set_tests_properties(grading.submissions PROPERTIES LABELS "grading;root" TIMEOUT 1800)

# Reliability (tests/faults/run PART) and the sanitizers (the asan tree).
set(faults_run "${suite_src}/tests/faults/run")
foreach(part IN ITEMS leaks leak-control bad-inputs bad-inputs-doc parallel graders-at-once oci)
  add_test(NAME faults.${part} COMMAND "${faults_run}" "${NSLAB_SUITE_ROOT}" ${part})
  set_tests_properties(faults.${part} PROPERTIES LABELS "faults;root" TIMEOUT 1200)
endforeach()
# They run `nslab cleanup` (leaks, bad inputs, oci), or every grader at once: alone.
set_tests_properties(faults.leaks faults.leak-control faults.bad-inputs faults.graders-at-once
                     faults.oci
                     PROPERTIES RUN_SERIAL ON COST -10)
add_test(NAME sanitizers.build COMMAND "${faults_run}" "${NSLAB_SUITE_ROOT}" asan-build)
set_tests_properties(sanitizers.build PROPERTIES LABELS "sanitizers" TIMEOUT 2400
                     FIXTURES_SETUP asan-tree COST 500)
foreach(part IN ITEMS unit grade08 escapes bad-inputs fuzz)
  add_test(NAME sanitizers.${part} COMMAND "${faults_run}" "${NSLAB_SUITE_ROOT}" asan-${part})
  set_tests_properties(sanitizers.${part} PROPERTIES LABELS "sanitizers;root" TIMEOUT 1200
      FIXTURES_REQUIRED asan-tree
      FAIL_REGULAR_EXPRESSION "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:")
endforeach()
set_tests_properties(sanitizers.bad-inputs PROPERTIES RUN_SERIAL ON COST -10)

# The VM: the harness's selftest unpacks Debian's kernel into an empty cache in
# the build root, as on a fresh machine; the graders then boot from it in
# both cgroup modes, and the VM mutants (tests/vm/mutant) are caught there.
set(vm_cache "NSLAB_VM_KERNEL_CACHE=${NSLAB_SUITE_ROOT}/vm-kernel")
add_test(NAME vm.selftest
    COMMAND bash -c "rm -rf \"$NSLAB_VM_KERNEL_CACHE\" && exec \"$0\"" "${suite_src}/tests/vm/selftest")
set_tests_properties(vm.selftest PROPERTIES LABELS "vm;root" ENVIRONMENT "${vm_cache}" TIMEOUT 1200
                     RESOURCE_LOCK vm FIXTURES_SETUP vm-kernel COST 1000)
# Alone a mode takes about 550 s under TCG; on a fresh 2-core machine, beside
# the sanitizer build and the mutants (an empty compiler cache), unified took
# over 1800 s, the old bound, with every result a pass. The bound is a hang
# detector, not a speed goal: tests/vm/run's own catches a hung guest and
# names its last step; ctest's is a little above it.
foreach(mode IN ITEMS unified legacy)
  add_test(NAME vm.${mode}
      COMMAND "${suite_src}/tests/vm/run" --mode ${mode} --build "${CMAKE_BINARY_DIR}" --timeout 2700)
  set_tests_properties(vm.${mode} PROPERTIES LABELS "vm;root" ENVIRONMENT "${vm_cache}" TIMEOUT 3000
                       RESOURCE_LOCK vm FIXTURES_REQUIRED vm-kernel COST 1000)
endforeach()
foreach(patch IN LISTS vm_mutants)
  get_filename_component(name "${patch}" NAME_WE)
  add_test(NAME vm.mutant.${name} COMMAND "${suite_src}/tests/vm/mutant" "${NSLAB_SUITE_ROOT}" "${patch}")
  set_tests_properties(vm.mutant.${name} PROPERTIES LABELS "vm;root" ENVIRONMENT "${vm_cache}"
                       TIMEOUT 2400 RESOURCE_LOCK "vm;mutant-tree" FIXTURES_REQUIRED vm-kernel COST 900)
endforeach()

# The Debian 12 guest (tests/debian): debootstrap into an empty cache in the
# build root, the guest's build made natively, then the Vagrantfile's
# PROVISION in it, one line broken and as it is, and README's commands as
# the vagrant user (about 23 minutes here, 14 of them in the VM;
# tests/debian/README.md). Label debian: run only when --label names it.
# It boots tests/vm's kernel (its cache, filled if empty).
add_test(NAME debian.selftest
    COMMAND bash -c "rm -rf \"$NSLAB_DEBIAN_CACHE\" && exec \"$0\"" "${suite_src}/tests/debian/selftest")
set_tests_properties(debian.selftest PROPERTIES LABELS "debian;root" TIMEOUT 7200 RESOURCE_LOCK vm
                     ENVIRONMENT "NSLAB_DEBIAN_CACHE=${NSLAB_SUITE_ROOT}/debian;${vm_cache}")

# A fresh Debian 12 machine (tests/debian/fresh): debootstrap, then a clean
# clone of this checkout's commit runs the README's two commands there
# (grade --tree solutions, test --no-vm), natively. Label fresh, run only
# when --label names it: it is a whole suite again, on this host's kernel,
# and does not fit in CI's 90 minutes with the rest; run alone.
add_test(NAME debian.fresh COMMAND "${suite_src}/tests/debian/fresh")
set_tests_properties(debian.fresh PROPERTIES LABELS "fresh;root" TIMEOUT 7200 RUN_SERIAL TRUE)
