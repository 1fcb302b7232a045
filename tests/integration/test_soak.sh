#!/bin/bash
# A short sample of the soak (tests/soak/run; `make soak` runs it for 30 minutes):
# 4 workers race random run / create / start / exec / kill / pause / resume / update /
# delete on one state root for 60 s, with and without --network bridge and published
# ports; the summary must be clean: no unexpected error, no leftover, memory and fds
# of `silo run` flat.
. "$(dirname "$0")/../lib/common.sh"

[ "$TEST_TIMEOUT" -ge 120 ] || TEST_TIMEOUT=120

test_soak_sample() {
	need_cmd jq busybox timeout flock
	is_runc && skip "the soak's classification of errors is silo's"
	capture env SOAK_SECONDS=60 SOAK_WORKERS=4 SOAK_LOCK_WAIT=20 nice "$TESTS_DIR/soak/run"
	echo "$OUT" | grep -v '^  \(create\|delete\|exec\|kill\|list\|pause\|ps\|resume\|run\|start\|state\|update\|http\)' >&2
	assert_contains "$OUT" "errors: expected" "soak summary"
	assert_match "$OUT" "errors: expected [0-9]+, unexpected 0" "unexpected errors"
	assert_contains "$OUT" "leftovers: 0" "soak leftovers"
	assert_not_contains "$OUT" "GREW" "memory or fds"
	assert_match "$OUT" "containers: [1-9][0-9]+ " "containers made"
	assert_contains "$OUT" "soak: CLEAN" "soak verdict"
	assert_eq 0 "$RC" "soak exit status"
}

run_test soak_sample test_soak_sample
