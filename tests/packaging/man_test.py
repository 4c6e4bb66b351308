#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The man pages cover what the programs say they do, read at test time
(so keys and commands added later are checked too):

- every command, subcommand and --option in `patd --help` and in
  `patd CMD --help` appears in man/patd.8.scd;
- the same for patctl and man/patctl.1.scd;
- every [section] of patd.conf.example has a "## [section]" in
  man/patd.conf.5.scd, and every key of it appears there as *key*.

    man_test.py PATD PATCTL patd.conf.example MANDIR
"""
import re
import subprocess
import sys

patd, patctl, example, mandir = sys.argv[1:5]
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def page(name):
    with open("%s/%s.scd" % (mandir, name), encoding="utf-8") as f:
        return f.read().replace("\\", "")


def helptext(prog, *args):
    r = subprocess.run([prog, *args, "--help"], capture_output=True,
                       text=True, timeout=10)
    return r.stdout + r.stderr


def words(prog, text):
    """The commands and options of the usage lines of prog in text."""
    name = prog.rsplit("/", 1)[-1]
    cmds, found = [], set()
    for line in text.splitlines():
        m = re.match(r"usage: %s (\S+)(.*)" % name, line)
        if not m:
            continue
        cmd, rest = m.group(1), m.group(2)
        cmds.append(cmd)
        found.add(cmd)
        sub = re.match(r"\s+([a-z][a-z-]*(?:\|[a-z][a-z-]*)*)(\s|$)", rest)
        if sub:  # "add|list|show ..." or "create ..."
            found.update(sub.group(1).split("|"))
        found.update(re.findall(r"--[a-z][a-z0-9-]*", rest))
    return cmds, found


def in_page(text, word):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(word), text)


for prog, man in ((patd, "patd.8"), (patctl, "patctl.1")):
    text = page(man)
    cmds, found = words(prog, helptext(prog))
    check(len(cmds) >= 5, "%s --help lists its commands" % prog)
    for cmd in cmds:
        found |= words(prog, helptext(prog, cmd))[1]
    found.discard("--help")
    for w in sorted(found):
        check(in_page(text, w), "%s: '%s' (from --help) not in %s" %
              (prog, w, man))

conf = page("patd.conf.5")
blocks = {}
for m in re.finditer(r"^## \[(\w+)\]\n(.*?)(?=^#|\Z)", conf, re.M | re.S):
    blocks[m.group(1)] = m.group(2)
section = None
nkeys = 0
with open(example, encoding="utf-8") as f:
    for line in f:
        m = re.match(r"^\[(\w+)\]", line)
        if m:
            section = m.group(1)
            check(section in blocks,
                  "patd.conf(5): no '## [%s]' section" % section)
            continue
        m = re.match(r"^(\w+)\s*=", line)
        if m and section:
            nkeys += 1
            check("*%s*" % m.group(1) in blocks.get(section, ""),
                  "patd.conf(5): no key '%s' in [%s]" % (m.group(1), section))
check(nkeys >= 20, "patd.conf.example has its keys")
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
