#!/usr/bin/env bash
# Create the virtualenv and install Hotline with its test extras, exactly as
# requirements.lock pins them (versions and hashes; refresh with `make lock`).
# On a fresh Debian machine, as root, it also installs the system packages the
# product needs (espeak-ng and sox for prompts, a CJK font for fax pages); as a normal user it says what is missing.
set -euo pipefail
PYTHON=${1:-python3}
VENV=${2:-.venv}

missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng libespeak-ng1)
command -v sox >/dev/null 2>&1 || missing+=(sox)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)  # Chinese fax pages
"$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "bootstrap: missing system packages: ${missing[*]}" >&2
    echo "bootstrap: install them with: sudo apt-get install ${missing[*]}" >&2
    case " ${missing[*]} " in *" python3-venv "*) exit 1 ;; esac
    echo "bootstrap: continuing; prompts will not be rendered until espeak-ng and sox are installed" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
# Only what the lock names, checked against its hashes: a new upstream release
# changes nothing here until the lock is refreshed on purpose.
"$VENV/bin/python" -m pip install -q --require-hashes --no-deps -r requirements.lock
"$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
"$VENV/bin/python" -m pip check >/dev/null || {
  "$VENV/bin/python" -m pip check >&2
  echo "bootstrap: the installed set is inconsistent; refresh the lock with: make lock" >&2
  exit 1
}
echo "bootstrap: ready ($VENV)"
