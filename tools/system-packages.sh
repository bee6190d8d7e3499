#!/usr/bin/env bash
# Installs the Debian packages the tests need when their commands are missing (make test runs it first):
#   poppler-utils  pdftotext, pdftoppm: the invoice PDF test of package billing.
#   chromium       headless Chromium: the web console's browser test (test/tickets TestConsoleBrowser, chromedp).
# It uses apt-get as root, or through sudo when that works without a password; otherwise it fails and says what to
# install. Nothing is done when every command is already on PATH.
set -euo pipefail

missing=()
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root=(sudo -n)
else
	echo "system-packages: missing ${missing[*]}; install it (apt-get install -y ${missing[*]}) or run as root" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "system-packages: missing ${missing[*]} and no apt-get here: install it with this system's package manager" >&2
	exit 1
fi
echo "system-packages: installing ${missing[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
	{ "${as_root[@]}" apt-get update >/dev/null && "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
