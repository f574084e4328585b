#!/bin/sh
# The install steps of the Docker image (the Dockerfile RUNs this script; tests/deploy/test_kit.py runs it
# in a clean venv in a temporary directory, so what the image does is tested where Docker does not run).
#   deploy/build.sh VENV_DIR [SOURCE_DIR]
# Installs the bot's pinned dependencies (requirements.lock; the test extra's are not in it), then the
# project itself without resolving anything more (--no-deps), and checks that the command line and the
# migrations are there.
set -eu
VENV=${1:?usage: deploy/build.sh VENV_DIR [SOURCE_DIR]}
SRC=${2:-.}
PYTHON=${PYTHON:-python3}

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$SRC/requirements.lock"
"$VENV/bin/python" -m pip install --quiet --no-deps -e "$SRC"
cd "$SRC"
"$VENV/bin/python" -m bot --help > /dev/null
test -f migrations/env.py && ls migrations/versions/0001*.py > /dev/null
echo "built $VENV from $SRC"
