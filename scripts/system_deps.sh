#!/usr/bin/env bash
# System packages (Debian/Ubuntu): LibreOffice converts legacy .doc/.xls/.wps/.et/.ppt files; a CJK font draws
# the scanned-page fixtures the OCR tests read (and the Chinese text in browser screenshots); chromium runs the
# browser tests (tests/test_browser*.py, Playwright with executable_path=/usr/bin/chromium); a C/C++ toolchain and
# cmake compile llama-cpp-python, the real LLM server of the LLM tests. Does nothing when they are installed already.
set -euo pipefail
packages=(libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui fonts-wqy-microhei chromium
          build-essential cmake)
if dpkg -s "${packages[@]}" >/dev/null 2>&1; then
    exit 0
fi
sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
