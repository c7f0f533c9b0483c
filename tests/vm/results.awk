# Turns GoogleTest console output (--gtest_color=no) into the harness's
# machine-readable lines. Runs under busybox awk inside the VM; POSIX only.
#
#   awk -v grader=grade_lab01 -v counts=/tmp/counts -f results.awk
#
# For each test: "NSLAB-VM-RESULT <grader> <Suite.Test> PASS|FAIL|SKIP".
# A failed test's own output (the assertion text, and whatever the programs it
# ran printed) follows as "NSLAB-VM-LOG " lines, at most max_log of them. A
# test that is still running when the output ends (the grader crashed or was
# killed) is a FAIL. Every input line is also echoed, prefixed "  | ", so the
# serial log keeps the raw output. Totals go to the file named by `counts`.

BEGIN {
    if (max_log == "") max_log = 60
    passed = 0; failed = 0; skipped = 0
    current = ""; n = 0
}

function flush_log(    i, shown) {
    shown = n < max_log ? n : max_log
    for (i = 1; i <= shown; i++) print "NSLAB-VM-LOG " buf[i]
    if (n > shown) print "NSLAB-VM-LOG ... " (n - shown) " more lines in the serial log"
}

function finish(verdict) {
    print "NSLAB-VM-RESULT " grader " " current " " verdict
    if (verdict == "PASS") passed++
    else if (verdict == "SKIP") skipped++
    else { failed++; flush_log() }
    current = ""; n = 0
}

{
    sub(/\r$/, "")
    print "  | " $0
}

/^\[ RUN      \] / {
    if (current != "") {
        buf[++n] = "(no verdict printed before the next test started)"
        finish("FAIL")
    }
    current = $4; n = 0
    next
}

# The verdict line names the running test and ends with "(N ms)"; the summary
# at the end repeats "[  FAILED  ] Suite.Test" without a time and is ignored.
current != "" && /^\[       OK \] / && $4 == current { finish("PASS"); next }
current != "" && /^\[  FAILED  \] / && $4 == current { finish("FAIL"); next }
current != "" && /^\[  SKIPPED \] / && $4 == current { finish("SKIP"); next }

current != "" { buf[++n] = $0 }

END {
    if (current != "") {
        buf[++n] = "(the grader stopped during this test: crash, abort or kill)"
        finish("FAIL")
    }
    if (counts != "") {
        print passed, failed, skipped > counts
        close(counts)
    }
}
