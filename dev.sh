#!/bin/sh
# The developer commands the README promises, each self-contained:
#   sh dev.sh example [OPTIONS]   run the movie example verbosely
#   sh dev.sh test [PYTEST ARGS]  run the whole test suite
#   sh dev.sh docs                build the docs (warnings are errors)
#   sh dev.sh bench [OPTIONS]     the benchmarks (docs/performance.rst)
# Each creates .venv (with python3, or $PYTHON) and installs the project into
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
    docs)
        # The docs site: Sphinx from the "docs" extra, into the same .venv.
        venv
        if [ ! -f .venv/.dojobber-docs ] || [ pyproject.toml -nt .venv/.dojobber-docs ]; then
            .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[docs]"
            touch .venv/.dojobber-docs
        fi
        # -E: read every page each time, so that no warning hides in the cache.
        exec .venv/bin/python -m sphinx -E -W --keep-going -b html docs docs/_build/html "$@" ;;
    bench)
        # Issue 3: the benchmark suite; `sh dev.sh bench --help` lists its options.
        venv
        exec .venv/bin/python -m benchmarks "$@" ;;
    *)
        echo "usage: sh dev.sh example [OPTIONS] | sh dev.sh test [PYTEST ARGS] | sh dev.sh docs | sh dev.sh bench [OPTIONS]" >&2
        exit 2 ;;
esac
