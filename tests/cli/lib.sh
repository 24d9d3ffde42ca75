# Shared by the tests/cli bench scripts (sourced, not a test): the binary, the
# Python with the system's packages, a scratch directory removed at exit, a
# failure counter, and the ending that turns it into the exit status.
set -u
BIN=${MUSTER_BIN:-./build/default/muster}
PY=/usr/bin/python3
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MUSTER_NO_PROGRESS=1

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The last line of a script: its failures, or its ok message.
finish() { # ok-message
    if [ "$fails" -ne 0 ]; then
        echo "$fails failure(s)"
        exit 1
    fi
    echo "${1:-ok}"
}
