# SPDX-License-Identifier: MIT
# bash completion for patd and patctl (installed under both names). The
# commands, subcommands and options are read from the program's own
# --help, so they stay in step with the installed version.

# The usage lines of "PROG [WORDS...] --help", one per line.
_pat_usage()
{
    "$@" --help 2>&1 | sed -n "s/^usage: ${1##*/} //p"
}

_pat_complete()
{
    local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD - 1]}
    local -a nonopt=()
    local i list

    COMPREPLY=()
    case $prev in
    --config | --db | --token-file | --output | --input | --report)
        [[ $prev == --report ]] && return 0
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
        ;;
    esac
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} == -* ]] || nonopt+=("${COMP_WORDS[i]}")
    done
    if [[ $cur == -* ]]; then
        list=$(_pat_usage "$prog" "${nonopt[@]:0:2}" |
            grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$list --help" -- "$cur"))
        return 0
    fi
    case ${#nonopt[@]} in
    0)
        list=$(_pat_usage "$prog" | awk '{print $1}')
        ;;
    1)
        # "user add|list|show ..." or "token create ..." (one a line)
        list=$(_pat_usage "$prog" "${nonopt[0]}" |
            awk -v c="${nonopt[0]}" '$1 == c && $2 ~ /^[a-z][a-z|-]*$/ {
                n = split($2, s, "|"); for (i = 1; i <= n; i++) print s[i] }')
        ;;
    esac
    if [[ -n $list ]]; then
        COMPREPLY=($(compgen -W "$list" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
}

complete -F _pat_complete patd patctl
