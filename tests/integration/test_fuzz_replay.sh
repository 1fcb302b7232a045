#!/bin/bash
# The libFuzzer corpora and crash reproducers of tests/fuzz/, replayed once each
# (tests/fuzz/replay): every input that ever made a parser crash, leak or hang must
# stay harmless.  Long campaigns are `make fuzz` (docs/security.md, "Fuzzing").
. "$(dirname "$0")/../lib/common.sh"

test_fuzz_corpora_replay() {
	silo_only "the harnesses link silo's own parsers"
	capture "$REPO_DIR/tests/fuzz/replay"
	case "$OUT" in *"fuzz replay: SKIP: "*) skip "${OUT##*SKIP: }" ;; esac
	[ "$RC" -eq 0 ] || fail "replay failed: $(show "$(grep -E '^FAIL' <<< "$OUT")")"
	# every target of tests/fuzz/targets ran (an empty list would pass silently)
	[ "$(grep -c '^ok ' <<< "$OUT")" -ge 10 ] || fail "too few targets replayed: $(show "$OUT")"
}

# The replay first compiles the twelve harnesses with clang (minutes on a loaded
# machine, and under make check SANITIZE=1): more time than a test's default.
[ "$TEST_TIMEOUT" -ge 300 ] || TEST_TIMEOUT=300
run_test fuzz_corpora_replay test_fuzz_corpora_replay
