#compdef patd patctl
# SPDX-License-Identifier: MIT
# zsh completion for patd and patctl (installed as _patd and _patctl).
# The commands, subcommands and options are read from the program's own
# --help, so they stay in step with the installed version.

setopt localoptions extendedglob
local prog=${words[1]} w sub='[a-z][a-z|-]#'
local -a nonopt usage list
for w in ${words[2,CURRENT-1]}; do
    [[ $w == -* ]] || nonopt+=($w)
done
case ${words[CURRENT-1]} in
(--config|--db|--token-file|--output|--input)
    _files
    return
    ;;
esac
usage=(${(f)"$($prog ${nonopt[1,2]} --help 2>&1)"})
usage=(${${(M)usage:#usage: ${prog:t} *}#usage: ${prog:t} })
if [[ $PREFIX == -* ]]; then
    list=(${(u)${(M)${=usage}:#--[a-z]*}} --help)
    list=(${list%%[^a-z0-9-]*})
    compadd -- ${(u)list}
elif (( ${#nonopt} == 0 )); then
    compadd -- ${usage%% *}
elif (( ${#nonopt} == 1 )); then
    list=()
    for w in $usage; do
        w=${${w#${nonopt[1]} }%% *}
        [[ $w == ${~sub} ]] && list+=(${(s:|:)w})
    done
    if (( ${#list} )); then
        compadd -- ${(u)list}
    else
        _files
    fi
else
    _files
fi
