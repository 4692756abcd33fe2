#!/bin/sh
# Fetch the fonts the committed CNN was trained and measured with (bench/printed_digits.py), without
# installing them system-wide: Debian's packages are downloaded with apt-get and unpacked into
# ${NNPLAY_FONTS:-~/.cache/nnplay/fonts}, one of printed_digits.FONT_DIRS. DejaVu comes from
# /usr/share/fonts. Symbol fonts (no digits) are left out.
set -eu
DEST="${NNPLAY_FONTS:-$HOME/.cache/nnplay/fonts}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get download fonts-liberation2 fonts-freefont-ttf fonts-urw-base35 fonts-crosextra-carlito \
    fonts-open-sans fonts-roboto-unhinted fonts-comic-neue fonts-texgyre
for deb in ./*.deb; do dpkg -x "$deb" unpacked; done
mkdir -p "$DEST"
find unpacked \( -name '*.ttf' -o -name '*.otf' \) ! -name 'D050000L.otf' ! -name 'StandardSymbolsPS.otf' \
    -exec cp {} "$DEST"/ \;
echo "$(ls "$DEST" | wc -l) font files in $DEST"
