#!/bin/sh
# The two developer commands the README promises, each self-contained:
#   sh dev.sh example [OPTIONS]   run the movie example verbosely
#   sh dev.sh test [PYTEST ARGS]  run the whole test suite
# Both create .venv (with python3, or $PYTHON) and install the project into
# it on first use, and again whenever pyproject.toml changes.
set -eu
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}

venv() {
    if [ ! -x .venv/bin/python ]; then
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
            echo "dev.sh: DoJobber needs Python 3.10 or newer; set PYTHON=..." >&2
            exit 2
        }
        "$PYTHON" -m venv .venv
    fi
    stamp=.venv/.dojobber-installed
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
        touch "$stamp"
    fi
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
    example)
        venv
        cd tests && exec ../.venv/bin/python dojobber_example.py -v --no-x11 "$@" ;;
    test)
        venv
        exec .venv/bin/python -m pytest "$@" ;;
    *)
        echo "usage: sh dev.sh example [OPTIONS] | sh dev.sh test [PYTEST ARGS]" >&2
        exit 2 ;;
esac
