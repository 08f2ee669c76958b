#!/usr/bin/env bash
# Runs the Connect conformance suite (connectrpc.com/conformance) in server
# mode against duet and against the plain grpc-go baseline. .ci/run calls it.
# Each run must fail exactly the cases of its known-failing files (the runner
# fails the run when a listed case passes or an unlisted one fails).
#
# Adding a protocol is one config in config/, one known-failing file in
# known-failing/ (one pattern per line, each with its reason in a comment)
# and one `suite` line below. See README.md.
set -euo pipefail
cd "$(dirname "$0")"

CONFORMANCE_VERSION=v1.0.7 # keep equal to suiteVersion in internal/gen
RUNNER=${CONNECTCONFORMANCE:-connectconformance}
if ! "$RUNNER" --version 2>/dev/null | grep -qx "connectconformance $CONFORMANCE_VERSION"; then
  echo "need connectconformance $CONFORMANCE_VERSION on PATH (or in \$CONNECTCONFORMANCE):" >&2
  echo "  go install connectrpc.com/conformance/cmd/connectconformance@$CONFORMANCE_VERSION" >&2
  exit 1
fi
# The suite's reference gRPC-Web server, the baseline of the gRPC-Web run.
REFERENCE_GRPC_WEB=${CONFORMANCE_GRPCSERVER:-grpcserver}
if ! "$REFERENCE_GRPC_WEB" --version 2>/dev/null | grep -qx "grpcserver $CONFORMANCE_VERSION"; then
  echo "need grpcserver $CONFORMANCE_VERSION on PATH (or in \$CONFORMANCE_GRPCSERVER):" >&2
  echo "  go install connectrpc.com/conformance/cmd/grpcserver@$CONFORMANCE_VERSION" >&2
  exit 1
fi

# The suite's reference Connect server (connect-go), the baseline of the
# Connect run.
REFERENCE_CONNECT=${CONFORMANCE_REFERENCESERVER:-referenceserver}
if ! "$REFERENCE_CONNECT" --version 2>/dev/null | grep -qx "referenceserver $CONFORMANCE_VERSION"; then
  echo "need referenceserver $CONFORMANCE_VERSION on PATH (or in \$CONFORMANCE_REFERENCESERVER):" >&2
  echo "  go install connectrpc.com/conformance/cmd/referenceserver@$CONFORMANCE_VERSION" >&2
  exit 1
fi

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/server" ./server

failed=0
# suite NAME CONFIG KNOWN-FAILING[,KNOWN-FAILING...] -- SERVER-FLAGS...
# The server is duet's server-under-test, or $SERVER when set.
suite() {
  local name=$1 conf=$2 known=$3
  shift 4
  # The runner reads only the first @file it is given (v1.0.7), so the
  # files are joined into one.
  local k list="$bin/$name.known-failing"
  : >"$list"
  for k in ${known//,/ }; do cat "known-failing/$k" >>"$list"; done
  local log="$bin/$name.log"
  if timeout 600 "$RUNNER" --mode server --conf "config/$conf" --known-failing "@$list" -- "${SERVER:-$bin/server}" "$@" >"$log" 2>&1; then
    local total passed
    total=$(sed -n 's/^Total cases: \([0-9]*\)$/\1/p' "$log" | tail -n 1)
    passed=$(sed -n 's/^\([0-9]*\) passed, .*/\1/p' "$log" | tail -n 1)
    echo "conformance $name (${SERVER:+$SERVER }$*): $passed of $total cases pass; the other $((total - passed)) are listed as known failures"
  else
    echo "conformance $name (${SERVER:+$SERVER }$*): FAILED"
    grep -E '^(FAILED|Total|[0-9]+ passed)|known|unexpected' "$log" || tail -n 40 "$log"
    failed=1
  fi
}

# subset SMALL BIG: every pattern in SMALL is in BIG (duet fails nothing the
# baseline passes).
subset() {
  local extra
  extra=$(grep -v -e '^#' -e '^$' "known-failing/$1" | grep -vxF -f <(grep -v -e '^#' -e '^$' "known-failing/$2") || true)
  if [ -n "$extra" ]; then
    echo "known-failing/$1 lists cases the baseline known-failing/$2 passes:"; echo "$extra"
    failed=1
  fi
}

#     name           config     known failures                    server-under-test flags
suite grpc-go        grpc.yaml  grpc-go.txt                    -- -impl grpc-go
suite grpc-native    grpc.yaml  grpc.txt                       -- -impl native
suite grpc-one-port  grpc.yaml  grpc.txt                       -- -impl duet
suite grpc-fallback  grpc.yaml  grpc.txt                       -- -impl handler
subset grpc.txt grpc-go.txt
SERVER=$REFERENCE_GRPC_WEB \
suite grpc-web-reference grpc-web-reference.yaml grpc-web-reference.txt --
suite grpc-web       grpc-web.yaml  grpc-web.txt                   -- -impl duet
subset grpc-web.txt grpc-web-reference.txt
SERVER=$REFERENCE_CONNECT \
suite connect-reference connect.yaml connect-reference.txt --
suite connect        connect.yaml   connect.txt                    -- -impl duet
subset connect.txt connect-reference.txt

exit $failed
