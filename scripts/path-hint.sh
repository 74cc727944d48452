#!/bin/sh
# Says how to put DIR on PATH when it is not there, one line per shell.
# `make install` runs it after putting `eventpipe` into BIN_DIR.
#
# Usage: path-hint.sh DIR [COMMAND]   (COMMAND: what was installed there)
set -eu

dir="$1"
command="${2:-eventpipe}"
# Compared as physical paths, so a trailing slash or a symlink still matches.
want=$(cd "$dir" 2>/dev/null && pwd -P) || want="$dir"

old_ifs=$IFS
IFS=:
for entry in $PATH; do
    [ -n "$entry" ] && [ -d "$entry" ] || continue
    if [ "$(cd "$entry" && pwd -P)" = "$want" ]; then
        exit 0
    fi
done
IFS=$old_ifs

cat <<HINT
$dir is not on your PATH, so your shell will not find '$command'. Add it (one line, for your shell):
  bash: echo 'export PATH="$dir:\$PATH"' >> ~/.bashrc
  zsh:  echo 'export PATH="$dir:\$PATH"' >> ~/.zshrc
  fish: fish_add_path '$dir'
then open a new shell, or run: export PATH="$dir:\$PATH"
HINT
