#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash completion loads the way bash-completion loads it (on demand,
# from a completions directory, by the command's name) and completes
# commands, subcommands and options of patd and patctl; the zsh one
# (autoloaded by compinit) completes lines typed into an interactive zsh
# under zpty (zsh_complete.zsh).
#   completion_test.sh BINDIR COMPLETION_DIR(with patd, patctl) [ZSH_FILE]
#   completion_test.sh BINDIR packaging/completions/pat.bash [ZSH_FILE]
set -u
bindir=$1
compdir=$2
zshfile=${3:-}
pass=0
fail=0
expect() { # name want got
    if [ "$2" = "$3" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $1: got '$3', want '$2'"
    fi
}
if [ ! -r /usr/share/bash-completion/bash_completion ]; then
    echo "bash-completion is not installed (scripts/deps.sh)"
    echo "0 passed, 1 failed"
    exit 1
fi
user=$(mktemp -d)
trap 'rm -rf "$user"' EXIT
mkdir -p "$user/completions"
if [ -f "$compdir" ]; then # the source: one script for both names
    cp "$compdir" "$user/completions/patd"
    cp "$compdir" "$user/completions/patctl"
else
    cp "$compdir/patd" "$compdir/patctl" "$user/completions/"
fi
complete() { # WORD... : what bash-completion's loader makes of the line
    PATH="$bindir:$PATH" BASH_COMPLETION_USER_DIR=$user bash --norc -c '
        . /usr/share/bash-completion/bash_completion
        _completion_loader "$1" >/dev/null 2>&1
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        f=$(complete -p "$1" 2>/dev/null | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
        [ -n "$f" ] || { echo "no completion for $1"; exit 0; }
        "$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        [ ${#COMPREPLY[@]} -eq 0 ] ||
            printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$@"
}
expect patctl-command "token tokens " "$(complete patctl to)"
expect patctl-sub "regenerate rename revoke " "$(complete patctl token re)"
expect patctl-option "--name --no-expiry " "$(complete patctl token create --n)"
expect patd-command "serve " "$(complete patd se)"
expect patd-sub "set-scopes show " "$(complete patd user s)"
expect patd-option "--config " "$(complete patd serve --conf)"
expect unknown "" "$(complete patctl nosuchcommand --zz)"
# zsh: the completion function, autoloaded by compinit from fpath as
# _patd and _patctl, completes a line typed in an interactive zsh.
if [ -n "$zshfile" ]; then
    if command -v zsh >/dev/null; then
        zsh -n "$zshfile"
        expect zsh-parses 0 $?
        mkdir -p "$user/comp"
        cp "$zshfile" "$user/comp/_patd"
        cp "$zshfile" "$user/comp/_patctl"
        zcomplete() {
            timeout 20 zsh -f "$(dirname "$0")/zsh_complete.zsh" "$user" \
                "$bindir" "$1" | sed 's/\x1b\[[0-9?;]*[a-zA-Z]//g' |
                tr -d '\r' | sed 's/ *$//'
        }
        expect zsh-sub "patctl tokens bulk-revoke" "$(zcomplete 'patctl tokens bul')"
        expect zsh-command "patd user" "$(zcomplete 'patd us')"
        expect zsh-option "patctl token create --no-expiry" \
            "$(zcomplete 'patctl token create --no-e')"
    else
        echo "zsh is not installed (scripts/deps.sh)"
        expect zsh-installed 0 1
    fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
