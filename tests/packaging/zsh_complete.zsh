# SPDX-License-Identifier: MIT
# zsh_complete.zsh DIR BINDIR LINE: types LINE and a TAB into an
# interactive zsh (under zpty, with DIR/comp first in fpath) and prints
# the last line the terminal shows afterwards (escape sequences left in;
# completion_test.sh strips them).
zmodload zsh/zpty
zpty z "env -i HOME=$1 PATH=$2:/usr/bin:/bin TERM=dumb zsh -f -i"
zpty -w z "fpath=($1/comp \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "PS1='> '; print READY"
zpty -w -n z "$3"$'\t'
acc=
integer i
for ((i = 0; i < 50; i++)); do
    while zpty -r -t z chunk 2>/dev/null; do acc+=$chunk; done
    [[ $acc == *READY*"$3"?* ]] && break
    sleep 0.1
done
sleep 0.3 # the rest of the completed word, if it came in pieces
while zpty -r -t z chunk 2>/dev/null; do acc+=$chunk; done
zpty -d z
print -r -- "${acc##*> }"
